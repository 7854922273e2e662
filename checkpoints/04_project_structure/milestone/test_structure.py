"""Lesson 04: the app is split into layers.

Behaviour cannot show how the code is split, so this is the one test that looks at files.
It accepts each layer as a module (config.py) or a package (config/), anywhere under app/.
"""

import pytest

LAYERS = ["config", "database", "models", "routers", "services", "core"]


@pytest.mark.parametrize("layer", LAYERS)
def test_app_has_a_module_for_each_layer(workdir, layer):
    app = workdir / "app"
    found = [path for path in app.rglob(f"{layer}*") if path.name in (f"{layer}.py", layer) and "__pycache__" not in path.parts]
    packages = [path for path in found if path.is_file() or (path / "__init__.py").is_file() or any(path.glob("*.py"))]
    assert packages, (
        f"No `{layer}` module under app/. Lesson 04 splits the app into layers: "
        f"create app/{layer}.py or a package app/{layer}/ (with an __init__.py)."
    )

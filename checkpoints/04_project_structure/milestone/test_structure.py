"""Lesson 04: the app is split into layers.

Behaviour cannot show how the code is split, so this is the one test that looks at files. It
judges what the modules do, not what they are called: the routes sit on an APIRouter outside
app/main.py, the settings class and the engine are defined outside it, and so on. A layer also
counts when a module or package has one of its common names (app/core/db.py, app/api/routes/,
app/crud.py in the full-stack FastAPI template's layout). The files are read, never imported.
"""

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest


def called(tree: ast.AST, name: str) -> bool:
    """Whether the module calls `name(...)` or `something.name(...)`."""
    return any(
        isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == name
        for node in ast.walk(tree)
    )


def defines_subclass_of(tree: ast.AST, base: str) -> bool:
    return any(
        isinstance(node, ast.ClassDef) and any(getattr(b, "id", getattr(b, "attr", None)) == base for b in node.bases)
        for node in ast.walk(tree)
    )


def defines_table(tree: ast.AST) -> bool:
    return any(
        isinstance(node, ast.ClassDef)
        and any(k.arg == "table" and getattr(k.value, "value", None) is True for k in node.keywords)
        for node in ast.walk(tree)
    )


def handles_exceptions(tree: ast.AST) -> bool:
    return called(tree, "add_exception_handler") or called(tree, "exception_handler")


def queries(tree: ast.AST) -> bool:
    """Data access outside a router: the services (or crud) layer."""
    return not called(tree, "APIRouter") and (called(tree, "select") or called(tree, "commit"))


@dataclass(frozen=True)
class Layer:
    name: str
    common_names: tuple[str, ...]
    does_its_job: object  # tree -> bool
    job: str


LAYERS = [
    Layer(
        "config",
        ("config", "settings"),
        lambda tree: defines_subclass_of(tree, "BaseSettings"),
        "the Settings class (a pydantic-settings BaseSettings subclass)",
    ),
    Layer(
        "database",
        ("database", "db", "session"),
        lambda tree: called(tree, "create_engine"),
        "the engine (create_engine) and the session dependency",
    ),
    Layer("models", ("models",), defines_table, "the table model (class Task(SQLModel, table=True)) and its schemas"),
    Layer(
        "routers",
        ("routers", "routes", "api"),
        lambda tree: called(tree, "APIRouter"),
        "the task routes, on an APIRouter",
    ),
    Layer("services", ("services", "crud", "repository"), queries, "the queries (select, commit) that the routes call"),
    Layer("core", ("core",), handles_exceptions, "the exception handlers"),
]


def modules_outside_main(app: Path) -> dict[str, ast.AST]:
    """Every module under app/ but app/main.py, parsed ("app/core/db.py" -> its tree)."""
    found = {}
    for path in sorted(app.rglob("*.py")):
        if path == app / "main.py" or "__pycache__" in path.parts:
            continue
        try:
            found[path.relative_to(app.parent).as_posix()] = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue  # the app's own import reports it, with its line
    return found


def has_a_common_name(app: Path, names: tuple[str, ...]) -> bool:
    for name in names:
        for path in app.rglob(f"{name}*"):
            if path.name == f"{name}.py" or (path.is_dir() and path.name == name and any(path.glob("*.py"))):
                return True
    return False


@pytest.mark.parametrize("layer", LAYERS, ids=[layer.name for layer in LAYERS])
def test_app_has_a_module_for_each_layer(workdir, layer):
    app = workdir / "app"
    doing_it = [name for name, tree in modules_outside_main(app).items() if layer.does_its_job(tree)]
    assert doing_it or has_a_common_name(app, layer.common_names), (
        f"No module outside app/main.py holds {layer.job}. Lesson 04 splits the app into layers: "
        f"move it into app/{layer.name}.py (or a package app/{layer.name}/, or a module of your own layout, "
        f"such as app/core/{layer.name}.py)."
    )

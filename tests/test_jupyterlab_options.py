"""workbook.jupyterlab_options: the course's JupyterLab asks nothing about news and fetches none.

The options are read as JupyterLab reads them (LabApp's own command-line parsing, jupyterlab_server's settings
machinery); nothing is started.
"""

from __future__ import annotations

import pytest

from workbook.jupyterlab_options import lab_options

NOTIFICATIONS = "@jupyterlab/apputils-extension:notification"  # its fetchNews "none" is the news prompt


@pytest.fixture
def lab_app():
    """A JupyterLab application configured with the workbook's options, not started."""
    from jupyterlab.labapp import LabApp

    app = LabApp()
    app.parse_command_line(lab_options())
    return app


def test_the_news_feed_is_never_fetched_by_the_server(lab_app):
    assert lab_app.news_url is None, f"JupyterLab would fetch news from {lab_app.news_url}"


def test_the_news_prompt_is_off_and_updates_are_not_checked(lab_app, tmp_path):
    from jupyterlab_server.settings_utils import _get_overrides, get_settings

    overrides, error = _get_overrides(lab_app.app_settings_dir)
    assert not error, f"The workbook's overrides.json does not load: {error}"
    found, _ = get_settings(lab_app.app_settings_dir, lab_app.schemas_dir, str(tmp_path), NOTIFICATIONS, overrides)
    defaults = {name: each["default"] for name, each in found["schema"]["properties"].items()}

    assert defaults["fetchNews"] == "false", f"fetchNews defaults to {defaults['fetchNews']!r}: JupyterLab would ask"
    assert defaults["checkForUpdates"] is False, "JupyterLab would ask the network for a newer version"

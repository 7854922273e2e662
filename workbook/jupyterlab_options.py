"""The options `workbook start` gives its JupyterLab: no news prompt, no fetch of news or updates (no network).

JupyterLab 4 asks at first start whether to fetch Jupyter's news feed (the setting `fetchNews` of
@jupyterlab/apputils-extension:notification is "none": ask). The workbook's own settings folder (jupyterlab/,
shipped with the package) overrides that default with "false", and the server is given no news feed. A learner's
own settings (~/.jupyter/lab/user-settings) still win; nothing outside the package is written.
"""

from __future__ import annotations

from pathlib import Path

LAB_SETTINGS = Path(__file__).parent / "jupyterlab"  # overrides.json: defaults for this course's JupyterLab


def lab_options() -> list[str]:
    """The `jupyter lab` options for the course's JupyterLab (workbook.cli.jupyter_command adds them)."""
    return [f"--LabApp.app_settings_dir={LAB_SETTINGS}", "--LabApp.news_url=None"]

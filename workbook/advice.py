"""Advice: what a milestone test tells a learner without failing the check ("/docs needs the internet").

A test calls `advise("...")`; workbook.plugin_results records each Advice its milestone tests emit (pytest's
pytest_warning_recorded hook) into the report, SuiteResult.advice carries it, and workbook.summary shows one
"Warning: ..." line for each after the verdict. It never changes a verdict. Only the grader's own test code
emits it (the learner's app runs in another process), so like a verdict it is what the grader saw itself.
"""

from __future__ import annotations

import warnings

# Shown on every emission, whatever the warning options of the run (ini filters come before PYTHONWARNINGS).
ALWAYS_SHOWN = "always::workbook.advice.Advice"


class Advice(UserWarning):
    """Something a learner should change, though the milestone holds without it."""


def advise(message: str) -> None:
    """Tell the learner `message` as a warning under the check's summary; the test goes on and may pass."""
    warnings.warn(Advice(message), stacklevel=2)


def unique(messages: list[str]) -> list[str]:
    """The messages in order, each once."""
    return list(dict.fromkeys(messages))

"""One verdict policy for every way of grading: `pytest SUITE --app-dir`, `workbook check`, `workbook grade`, the notebook.

Only the grader's own observations count. A run passes only when the report the grading pytest process wrote
(it runs no learner code: workbook.sandbox_apps) is complete, and says that exactly the tests the suite collected
ran and passed: a skip, a test missing, a run that ended early, or no report at all is not a pass.

The verdicts, worst first, and the exit code each gives:
- "grader error" (3): the grading machinery failed (the sandbox could not start, the suite itself is broken);
- "could not load" (2): the app could not be imported or started (one message says why);
- "timed out" (1): the run did not finish in time, and was ended with everything it started;
- "out of memory" (1): tests failed, and the app ran out of memory on the way;
- "crashed" (1): tests failed, and the app's process died while it should have been answering;
- "failed" (1): some tests did not pass;
- "passed" (0): every test of the suite ran and passed.
"""

from __future__ import annotations

PASSED, FAILED = "passed", "failed"
COULD_NOT_LOAD, TIMED_OUT = "could not load", "timed out"
OUT_OF_MEMORY, CRASHED, GRADER_ERROR = "out of memory", "crashed", "grader error"
VERDICTS = (GRADER_ERROR, COULD_NOT_LOAD, TIMED_OUT, OUT_OF_MEMORY, CRASHED, FAILED, PASSED)  # worst first
EXIT_CODES = {
    PASSED: 0,
    FAILED: 1,
    CRASHED: 1,
    OUT_OF_MEMORY: 1,
    TIMED_OUT: 1,
    COULD_NOT_LOAD: 2,
    GRADER_ERROR: 3,
}
STYLES = {PASSED: "green", FAILED: "yellow", CRASHED: "yellow", OUT_OF_MEMORY: "yellow", TIMED_OUT: "red"}


def exit_code(verdict: str) -> int:
    return EXIT_CODES.get(verdict, EXIT_CODES[GRADER_ERROR])


def worst(verdicts) -> str:
    """The worst of several verdicts (a class's, say); "passed" for none."""
    found = set(verdicts)
    return next((verdict for verdict in VERDICTS if verdict in found), PASSED)


def judge(
    *,
    expected: list[str],
    outcomes: dict[str, str],
    load_errors: list[str],
    grader_errors: list[str],
    incidents: set[str],
    complete: bool,
) -> str:
    """The verdict on one run, from what the grader itself saw.

    expected: the node ids the suite collected; outcomes: node id -> "passed", "failed" or "skipped", for those
    that ran; incidents: what the app's processes did ("out of memory", "crashed", "timed out"); complete: the
    session reached its end and wrote its report.
    """
    if grader_errors:
        return GRADER_ERROR
    if load_errors:
        return COULD_NOT_LOAD
    if not complete:
        return TIMED_OUT if TIMED_OUT in incidents else GRADER_ERROR
    if not expected:
        return GRADER_ERROR  # a suite that collected nothing grades nothing
    if all(outcomes.get(nodeid) == PASSED for nodeid in expected) and set(outcomes) <= set(expected):
        return PASSED
    if OUT_OF_MEMORY in incidents:
        return OUT_OF_MEMORY
    if CRASHED in incidents:
        return CRASHED
    return FAILED

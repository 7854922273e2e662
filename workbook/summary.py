"""The learner's summary of a check: the lesson's own suite, the earlier ones its app keeps, the first failure.

"Lesson 04 passes; 2 checks of lesson 03 no longer do: ..." A lesson is done only when both hold. The
failure shown in full is the most basic one (a missing route before a crash before a wrong answer;
suite_result.SuiteResult.first_failure); `every` adds one line for each failing check.
"""

from __future__ import annotations

from workbook.advice import unique

NAMED = 5  # failing checks named in a sentence; the rest are counted


def _after(lesson, exercise) -> str:
    """What comes after a passing exercise: the next one, or the check of the whole lesson."""
    from workbook.exercises import exercises

    names = [each.name for each in exercises(lesson)]
    later = names[names.index(exercise.name) + 1 :] if exercise.name in names else []
    if later:
        return f"Next: exercise {later[0]}."
    return f"That was lesson {lesson.number}'s last exercise: now check the whole lesson, the earlier lessons' checks included."


def _checks(count: int) -> str:
    return f"{count} check{'s' if count != 1 else ''}"


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:NAMED])
    return shown + (f" and {len(names) - NAMED} more" if len(names) > NAMED else "")


def summary(lesson, result, every: bool = False, exercise=None) -> str:
    """The summary of a suite_result.SuiteResult, in plain text: the verdict, then one line per advice
    (exercise: a check of that exercise alone)."""
    warnings = [f"Warning: {each}" for each in unique(getattr(result, "advice", []))]
    return "\n".join([_verdict(lesson, result, every, exercise), *warnings])


def _verdict(lesson, result, every: bool, exercise) -> str:
    from workbook import verdicts

    if exercise is not None and result.verdict == verdicts.PASSED:
        return f"Exercise {exercise.name} passes ({_checks(result.total)}). {_after(lesson, exercise)}"

    if result.verdict == verdicts.TIMED_OUT:
        return f"{result.passed} of {result.total} checks pass, then the check ran out of time.\n{result.load_error}"
    if result.verdict == verdicts.GRADER_ERROR:
        return f"The check could not run (the grader failed, not your app).\n{result.load_error}"
    if result.load_error:
        return f"No checks ran: the app could not load.\n{result.load_error}"
    own_passed, own_total = result.of(lesson.slug) if result.suites else (result.passed, result.total)
    of_what = f" of exercise {exercise.name}" if exercise is not None else ""
    if result.verdict in (verdicts.CRASHED, verdicts.OUT_OF_MEMORY) and result.failures:
        how = "ran out of memory" if result.verdict == verdicts.OUT_OF_MEMORY else "stopped (crashed)"
        first = result.first_failure
        return (
            f"{result.passed} of {result.total} checks pass; your app {how} on the way.\n"
            f"First failure: {first.test}\n{first.message}"
        )
    if result.verdict == verdicts.PASSED:  # as before keeps were run: the notebooks' stored outputs show this text
        return (
            f"All {own_total} checks pass. Lesson {lesson.number} is done.\n"
            "This is the same suite your instructor runs; there are no hidden tests."
        )
    if not result.failures:
        return f"The check could not run (pytest exit code {result.exit_code})."
    broken = {}
    for failure in result.failures:
        if failure.suite and failure.suite != lesson.slug:
            broken.setdefault(failure.suite, []).append(failure.test)
    if own_passed == own_total and broken:
        said = "; ".join(
            f"{_checks(len(names))} of lesson {slug[:2]} no longer {'do' if len(names) > 1 else 'does'}: {_names(names)}"
            for slug, names in broken.items()
        )
        lines = [f"Lesson {lesson.number} passes; {said}."]
        lines.append(f"Lesson {lesson.number} is done only when the earlier lessons it builds on still pass.")
    else:
        lines = [f"{own_passed} of {own_total} checks{of_what} pass."] + [
            f"Also, {_checks(len(names))} of lesson {slug[:2]} no longer {'pass' if len(names) > 1 else 'passes'}: "
            f"{_names(names)}."
            for slug, names in broken.items()
        ]
    if every:
        lines.append("Failing checks:")
        for failure in result.failures:
            where = f" (lesson {failure.suite[:2]})" if failure.suite and failure.suite != lesson.slug else ""
            first_line = (failure.message.strip().splitlines() or [""])[0]
            lines.append(f"- {failure.test}{where}: {first_line}")
    first = result.first_failure
    where = f" (a check of lesson {first.suite[:2]})" if first.suite and first.suite != lesson.slug else ""
    lines.append(f"First failure: {first.test}{where}\n{first.message}")
    return "\n".join(lines)

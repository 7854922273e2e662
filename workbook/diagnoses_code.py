"""The diagnoses' rules for how the app's modules fit together: a name imported that its module lacks (or
cannot give yet, in a circular import), and the app's own exception raised with no handler registered for it.

Each rule is a function from Evidence to a sentence (the cause, then the fix) or None; workbook.diagnoses
lists them all, in the order they are tried.
"""

from __future__ import annotations

import re
from difflib import get_close_matches

from workbook.evidence import Evidence


def import_name_typo(evidence: Evidence) -> str | None:
    found = re.search(r"cannot import name '(?P<name>[^']+)' from '(?P<module>[^']+)'", evidence.message)
    if evidence.error != "ImportError" or not found:
        return None
    name, module = found["name"], found["module"]
    if "partially initialized module" in evidence.message or "circular import" in evidence.message:
        return (
            f"`{module}` and a module it imports import each other (a circular import), so `{name}` does not exist "
            f"yet when it is asked for. Move the shared code into a module both can import, or import inside the "
            "function that needs it."
        )
    nearest = get_close_matches(name, [each for each in evidence.names if not each.startswith("_")], n=1, cutoff=0.6)
    if nearest:
        return f"`{module}` has no `{name}`: did you mean `{nearest[0]}`? Fix the name in the import."
    if evidence.names:
        return (
            f"`{module}` defines no `{name}`: check the spelling, or define `{name}` in {module.replace('.', '/')}.py."
        )
    return None


def handler_not_registered(evidence: Evidence) -> str | None:
    if not (evidence.module == "app" or evidence.module.startswith("app.")) or evidence.request is None:
        return None
    return (
        f"{evidence.error} is your own exception, and no handler is registered for it, so it became a 500: "
        f"register one with `app.add_exception_handler({evidence.error}, handler)` "
        f"(or `@app.exception_handler({evidence.error})`) where the app is made."
    )

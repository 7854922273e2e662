"""Docker's rules for an instruction's words (lesson 08): substitution, flags, mount options, simple commands.

`substitute` expands `$NAME`, `${NAME}`, `${NAME:-default}` and `${NAME:+alternative}` as Docker does;
`env_pairs` reads ENV's pairs; `strip_flags` splits an instruction's leading `--flags` from its body;
`mount_options` reads a `RUN --mount=...`; `simple_commands` splits a RUN shell line at `&&`, `||`, `;`
and `|`. workbook.dockerfile parses a whole Dockerfile with them; workbook.container runs its steps.
"""

from __future__ import annotations

import re
import shlex

_VARIABLE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?::?(?P<op>[-+])(?P<word>[^}]*))?\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


def substitute(text: str, values: dict[str, str]) -> str:
    """Docker's variable substitution: $NAME, ${NAME}, ${NAME:-default}, ${NAME:+alternative}."""

    def replace(match: re.Match) -> str:
        name = match["braced"] or match["plain"]
        value = values.get(name)
        if match["op"] == "-":
            return value if value else substitute(match["word"], values)
        if match["op"] == "+":
            return substitute(match["word"], values) if value else ""
        return value if value is not None else ""

    return _VARIABLE.sub(replace, text)


def env_pairs(body: str, values: dict[str, str]) -> dict[str, str]:
    """ENV's NAME=value pairs (or the old `ENV NAME value`), each value substituted."""
    try:
        words = shlex.split(body, posix=True)
    except ValueError:
        words = body.split()
    if words and "=" not in words[0]:  # ENV NAME the rest
        name, _, rest = body.strip().partition(" ")
        return {name: substitute(rest.strip(), values)}
    pairs, known = {}, dict(values)
    for word in words:
        name, _, value = word.partition("=")
        pairs[name] = known[name] = substitute(value, known)
    return pairs


def strip_flags(text: str) -> tuple[list[str], str]:
    """(['--from=builder', ...], the rest) for an instruction's leading --flags."""
    flags, rest = [], text.lstrip()
    while rest.startswith("--"):
        flag, _, rest = rest.partition(" ")
        while not flag.rstrip() or flag.count('"') % 2:  # a quoted value with spaces
            more, _, rest = rest.partition(" ")
            flag += " " + more
            if not rest:
                break
        flags.append(flag)
        rest = rest.lstrip()
    return flags, rest


def mount_options(mount: str) -> dict[str, str]:
    """`type=cache,target=/root/.cache/uv` as a dict."""
    options = {}
    for part in mount.split(","):
        name, _, value = part.partition("=")
        options[name.strip()] = value.strip()
    return options


def simple_commands(body: str) -> list[list[str]]:
    """A shell command line as its simple commands (split at &&, ||, ; and |)."""
    lexer = shlex.shlex(body, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    commands, current = [], []
    try:
        for token in lexer:
            if token in ("&&", "||", ";", "|", "&"):
                commands.append(current)
                current = []
            else:
                current.append(token)
    except ValueError:
        return [body.split()]
    commands.append(current)
    return [command for command in commands if command]

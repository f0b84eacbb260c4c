"""Read and fill in the env files of ``deploy/envs/`` as Docker Compose does.

The files use the part of Compose's env-file syntax that also means the same
to a POSIX shell: ``KEY=value`` lines, ``#`` comments, and single quotes for
values taken literally (a password holding ``$``). Compose would interpolate
a ``$`` outside single quotes and a shell would expand it, so such a value is
refused here with the fix, rather than read one way and deployed another.
"""

import re
from pathlib import Path

_ASSIGNMENT = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
_DOUBLE_QUOTED_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"'}


class EnvFileError(ValueError):
    """Raised when a line of an env file cannot be read the way Compose would."""


def parse_env_file(path: Path) -> dict[str, str]:
    """Return the variables an env file sets, in order, values unquoted."""
    variables: dict[str, str] = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            name, value = _parse_line(stripped)
        except EnvFileError as error:
            raise EnvFileError(f"{path}:{number}: {error}") from None
        variables[name] = value
    return variables


def quote_env_value(value: str) -> str:
    """Return ``value`` single-quoted, so Compose and a shell take it literally."""
    if "'" in value or "\n" in value:
        raise EnvFileError(
            "a value for an env file must not contain a single quote or a newline; "
            "generate passwords with secrets.token_urlsafe()"
        )
    return f"'{value}'"


def fill_env_file(source: Path, target: Path, values: dict[str, str]) -> Path:
    """Copy an env file, setting ``values`` as an operator would edit it.

    A variable already assigned in ``source`` is replaced on its line; the
    others are appended. Every value written is single-quoted.
    """
    pending = dict(values)
    lines = []
    for line in Path(source).read_text().splitlines():
        match = _ASSIGNMENT.match(line.strip())
        if match and match.group(1) in pending:
            name = match.group(1)
            line = f"{name}={quote_env_value(pending.pop(name))}"
        lines.append(line)
    lines += [f"{name}={quote_env_value(value)}" for name, value in pending.items()]
    Path(target).write_text("\n".join(lines) + "\n")
    return Path(target)


def _parse_line(line: str) -> tuple[str, str]:
    match = _ASSIGNMENT.match(line)
    if not match:
        raise EnvFileError(f"expected NAME=value, got {line!r}")
    name, raw = match.groups()
    if raw.startswith("'"):
        return name, _single_quoted(name, raw)
    if raw.startswith('"'):
        value = _double_quoted(name, raw)
    else:
        value = re.split(r"\s+#", raw, maxsplit=1)[0].strip()
    if "$" in value:
        raise EnvFileError(
            f"{name} holds a '$' that Compose would interpolate; put the value "
            f"in single quotes: {name}='...'"
        )
    return name, value


def _single_quoted(name: str, raw: str) -> str:
    match = re.fullmatch(r"'((?:[^'\\]|\\.)*)'\s*(?:#.*)?", raw)
    if not match:
        raise EnvFileError(f"{name} has a single-quoted value that is not closed")
    return match.group(1).replace("\\'", "'")


def _double_quoted(name: str, raw: str) -> str:
    match = re.fullmatch(r'"((?:[^"\\]|\\.)*)"\s*(?:#.*)?', raw)
    if not match:
        raise EnvFileError(f"{name} has a double-quoted value that is not closed")
    return re.sub(r"\\(.)", lambda m: _DOUBLE_QUOTED_ESCAPES.get(m[1], m[0]), match[1])

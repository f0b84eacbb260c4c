"""The email templates: a subject, a plain-text part and an HTML part each.

A template is a folder under ``templates/`` holding ``subject.txt``,
``body.txt`` and ``body.html``. HTML is autoescaped, and every variable a
template uses must be given, so a missing one fails the message at once
instead of mailing a blank to a customer.
"""

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    UndefinedError,
    select_autoescape,
)
from shared_kernel.errors import PermanentError

TEMPLATE_DIR = Path(__file__).parent / "templates"
PARTS = ("subject.txt", "body.txt", "body.html")

_MISSING = re.compile(r"'([^']+)' is undefined|has no attribute '([^']+)'")


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    """The rendered parts of one email, ready to put into a message."""

    subject: str
    text: str
    html: str


def render(template: str, variables: Mapping[str, object]) -> RenderedEmail:
    """Render the subject, text and HTML parts of ``template``.

    Raises:
        PermanentError: When the template does not exist or uses a variable
            that ``variables`` lacks: resending the message cannot help.
    """
    environment = _environment()
    try:
        subject, text, html = (
            environment.get_template(f"{template}/{part}").render(variables)
            for part in PARTS
        )
    except TemplateNotFound as exc:
        raise PermanentError(
            f"email template {template!r} has no {exc.name!r}; add it under "
            f"{TEMPLATE_DIR}"
        ) from exc
    except UndefinedError as exc:
        raise PermanentError(_missing_variable(template, exc, variables)) from exc
    return RenderedEmail(subject=" ".join(subject.split()), text=text, html=html)


@functools.cache
def _environment() -> Environment:
    # Built on first use, not at import: importing this module reads no file.
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html"], default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _missing_variable(
    template: str, exc: UndefinedError, variables: Mapping[str, object]
) -> str:
    given = ", ".join(sorted(variables)) or "none"
    found = _MISSING.search(exc.message or "")
    if found is None:
        return f"template {template!r} could not render ({exc.message}); given: {given}"
    name = found.group(1) or found.group(2)
    return (
        f"template {template!r} needs variable {name!r} but was given only: "
        f"{given}; pass {name!r} when rendering it"
    )

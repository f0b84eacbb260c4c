"""One masker for secrets in text: log lines, dead-letter reasons, previews."""

import re

MASK = "***"

# A password in a URL cannot hold '/', '?' or '#' unencoded, so these end it.
_URL_CREDENTIALS = re.compile(
    r"(\b[a-z][a-z0-9+.-]*://[^:/?#@\s]*:)[^/?#@\s]*@", re.I
)
_SECRET_PARAMETER = re.compile(
    r"((?:password|passwd|secret|token|api_?key|auth)[\w-]*=)[^&\s'\",]+", re.I
)


def redact(text: str) -> str:
    """Mask credentials in URLs and secret-looking ``name=value`` pairs."""
    text = _URL_CREDENTIALS.sub(rf"\g<1>{MASK}@", text)
    return _SECRET_PARAMETER.sub(rf"\g<1>{MASK}", text)

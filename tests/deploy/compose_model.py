"""compose.yaml read as Compose would, for the deployment tests."""

import re
from functools import cache
from itertools import combinations
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "compose.yaml"
ENVS = ROOT / "deploy" / "envs"
CONTEXTS = ("email", "data", "report")

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|ns)")
_DURATION_UNIT_S = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


@cache
def compose() -> dict:
    """Return compose.yaml as data (YAML anchors and merge keys resolved)."""
    return yaml.safe_load(COMPOSE_FILE.read_text())


def services() -> dict[str, dict]:
    """Return the services of compose.yaml by name."""
    return compose()["services"]


def declared_profiles() -> set[str]:
    """Return every profile some service names."""
    return {p for service in services().values() for p in service.get("profiles", [])}


def profile_sets() -> list[frozenset[str]]:
    """Return every non-empty combination of the declared profiles."""
    names = sorted(declared_profiles())
    return [frozenset(combo) for size in range(1, len(names) + 1)
            for combo in combinations(names, size)]


def active_services(profiles: set[str]) -> set[str]:
    """Return the services Compose starts with ``COMPOSE_PROFILES=profiles``."""
    return {name for name, service in services().items()
            if not service.get("profiles") or set(service["profiles"]) & profiles}


def dependencies(service: dict) -> dict[str, dict]:
    """Return ``depends_on`` in its long form: target → condition, required."""
    depends_on = service.get("depends_on", {})
    if isinstance(depends_on, list):
        depends_on = {name: {} for name in depends_on}
    return {name: {"condition": spec.get("condition", "service_started"),
                   "required": spec.get("required", True)}
            for name, spec in depends_on.items()}


def duration_s(text: str) -> float:
    """Return the seconds of a Compose duration such as ``1m30s``."""
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a Compose duration: {text!r}")
    return sum(float(number) * _DURATION_UNIT_S[unit] for number, unit in parts)


def unescape(text: str) -> str:
    """Return a compose.yaml string as the container gets it (``$$`` → ``$``).

    Raises:
        ValueError: When the string holds a ``$`` that Compose would
            interpolate from the host instead.
    """
    parts = text.split("$$")
    if any("$" in part for part in parts):
        raise ValueError(f"Compose would interpolate a host variable in {text!r}")
    return "$".join(parts)

"""Machines on one host: network namespaces joined by a bridge.

Each machine is a network namespace with one interface, ``eth0``, at
``10.231.0.<n>/24``. Its cable is a veth pair whose other end is a port of a
bridge that lives in a namespace of its own (the switch), so nothing is added
to the host's own network. Pulling a machine's cable sets its switch port down.
Names carry the test process's id: concurrent runs do not collide, and a run
that was killed before its clean-up is swept away by the next one.
"""

import os
import re
import shutil
import subprocess
import sys

SUBNET = "10.231.0"
_PREFIX = "deploytest"
_OWNED = re.compile(rf"^{_PREFIX}(\d+)-")


class NamespaceError(RuntimeError):
    """Raised when a namespace, link or address cannot be set up."""


def why_namespaces_cannot_work() -> str | None:
    """Return why this host cannot make network namespaces, or None if it can."""
    if not sys.platform.startswith("linux"):
        return "network namespaces exist on Linux only"
    if os.geteuid() != 0:
        return "creating network namespaces needs root (run the tests as root)"
    if not shutil.which("ip"):
        return "the ip command is missing (apt-get install iproute2)"
    return None


def ip(*args: str) -> str:
    """Run ``ip`` with ``args``; return its output or raise with its message."""
    result = subprocess.run([shutil.which("ip") or "ip", *args],
                            capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise NamespaceError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


class Network:
    """``machines`` namespaces on one bridge; use as a context manager."""

    def __init__(self, machines: int) -> None:
        tag = f"{_PREFIX}{os.getpid()}"
        self.switch = f"{tag}-switch"
        self.namespaces = [f"{tag}-m{n}" for n in range(1, machines + 1)]
        self._created: list[str] = []

    def address(self, machine: int) -> str:
        """Return the address of machine ``machine`` (numbered from 1)."""
        return f"{SUBNET}.{machine}"

    def command(self, machine: int, argv: list[str]) -> list[str]:
        """Return ``argv`` wrapped to run inside machine ``machine``."""
        return [shutil.which("ip") or "ip", "netns", "exec",
                self.namespaces[machine - 1], *argv]

    def unplug(self, machine: int) -> None:
        """Cut machine ``machine`` off the network, as a pulled cable would."""
        ip("-n", self.switch, "link", "set", f"port{machine}", "down")

    def plug(self, machine: int) -> None:
        """Connect machine ``machine`` again."""
        ip("-n", self.switch, "link", "set", f"port{machine}", "up")

    def create(self) -> "Network":
        """Make the switch and every machine; undo it all if a step fails."""
        sweep_abandoned()
        try:
            self._add_namespace(self.switch)
            ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
            ip("-n", self.switch, "link", "set", "br0", "up")
            for number in range(1, len(self.namespaces) + 1):
                self._add_machine(number)
        except (NamespaceError, subprocess.TimeoutExpired):
            self.destroy()
            raise
        return self

    def destroy(self) -> None:
        """Delete every namespace this network made, and with them their links."""
        for name in reversed(self._created):
            try:
                ip("netns", "delete", name)
            except NamespaceError:
                pass
        self._created.clear()

    def __enter__(self) -> "Network":
        return self.create()

    def __exit__(self, *exc_info) -> None:
        self.destroy()

    def _add_namespace(self, name: str) -> None:
        ip("netns", "add", name)
        self._created.append(name)
        ip("-n", name, "link", "set", "lo", "up")

    def _add_machine(self, number: int) -> None:
        namespace, port = self.namespaces[number - 1], f"port{number}"
        self._add_namespace(namespace)
        ip("-n", self.switch, "link", "add", port, "type", "veth",
           "peer", "name", "eth0", "netns", namespace)
        ip("-n", self.switch, "link", "set", port, "master", "br0", "up")
        ip("-n", namespace, "addr", "add", f"{self.address(number)}/24", "dev", "eth0")
        ip("-n", namespace, "link", "set", "eth0", "up")


def sweep_abandoned() -> None:
    """Delete namespaces left by test processes that no longer run."""
    for line in ip("netns", "list").splitlines():
        name = line.split()[0] if line.strip() else ""
        owner = _OWNED.match(name)
        if owner and not _process_exists(int(owner.group(1))):
            try:
                ip("netns", "delete", name)
            except NamespaceError:
                pass


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

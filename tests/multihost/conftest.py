"""The five machines of the deployment guide, for the multi-machine tests."""

import os

import pytest

from tests.multihost.deployment import MACHINES, Deployment
from tests.multihost.network import NamespaceError, Network, why_namespaces_cannot_work


def _cannot_run(reason: str) -> None:
    # CI runs as root and must run these tests: there, a missing namespace is
    # a failure, not a reason to skip.
    if os.environ.get("CI"):
        pytest.fail(f"the multi-machine tests cannot run in CI: {reason}")
    pytest.skip(f"multi-machine tests need network namespaces: {reason}")


@pytest.fixture(scope="module")
def network():
    """Five machines and a switch, removed again whatever the tests did."""
    reason = why_namespaces_cannot_work()
    if reason:
        _cannot_run(reason)
    try:
        network = Network(len(MACHINES)).create()
    except NamespaceError as error:
        _cannot_run(str(error))
    try:
        yield network
    finally:
        network.destroy()


@pytest.fixture(scope="module")
def deployment(network, tmp_path_factory):
    """Redis, the SMTP sink and the three consumers, running on their machines."""
    deployment = Deployment(network, tmp_path_factory.mktemp("machines"))
    try:
        deployment.start()
        yield deployment
    finally:
        for machine in MACHINES.values():
            try:
                network.plug(machine)
            except NamespaceError:
                pass
        deployment.stop()

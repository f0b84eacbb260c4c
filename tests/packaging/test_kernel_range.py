"""Each context's range of kernel versions starts at the kernel it is tested with.

A context declares ``shared-kernel>=L,<U``. The only kernel these tests can
install is the one in this working tree, so the range is honest only when that
kernel is exactly ``L``: then the wheel-install tests
(``test_context_install.py``), which install that kernel's wheel beside each
context's wheel, test every context against the lowest kernel its range
allows. When the kernel is released past ``L``, these tests fail until each
context raises ``L`` to it, so no context claims to work with a kernel older
than the one it was last tested with.

Limit: versions inside the range above ``L`` (a later kernel patch) are not
tested here; a context relies on the kernel keeping its contracts within a
minor version, and the upper bound ``U`` stops at the next one.
"""

import zipfile
from email.parser import HeaderParser

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from tests.packaging.conftest import CONTEXTS, wheel_of

INCLUSIVE_LOWER = (">=", "==", "~=", "===")


def kernel_requirement(wheel) -> Requirement:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        headers = HeaderParser().parsestr(archive.read(name).decode())
    (requirement,) = [Requirement(line) for line in headers.get_all("Requires-Dist")
                      if Requirement(line).name == "shared-kernel"]
    return requirement


def lower_bound(specifier: SpecifierSet) -> Version | None:
    """Return the lowest version ``specifier`` allows by an inclusive bound."""
    bounds = [Version(spec.version) for spec in specifier
              if spec.operator in INCLUSIVE_LOWER]
    return max(bounds, default=None)


@pytest.mark.parametrize("context", CONTEXTS)
def test_the_kernel_tested_with_is_the_lowest_a_context_allows(built, context):
    kernel_wheel = wheel_of(built, "shared_kernel")
    kernel = Version(kernel_wheel.name.split("-")[1])
    specifier = kernel_requirement(wheel_of(built, f"context_{context}")).specifier
    lowest = lower_bound(specifier)
    name = f"context-{context}"

    assert lowest is not None, (
        f"{name} requires shared-kernel{specifier} without an inclusive lower "
        f"bound; write >={kernel}"
    )
    assert specifier.contains(kernel, prereleases=True), (
        f"{name} requires shared-kernel{specifier}, which excludes the kernel "
        f"here ({kernel}); widen the range once {name} works with it"
    )
    assert lowest <= kernel, (
        f"{name} requires shared-kernel>={lowest} but the kernel here is "
        f"{kernel}; release the kernel first or lower the bound"
    )
    assert lowest == kernel, (
        f"{name} allows shared-kernel {lowest} but is tested only with {kernel}; "
        f"raise its lower bound to >={kernel}"
    )

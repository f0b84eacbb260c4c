"""Building the packages: a wheel and an sdist each, with nothing of another context."""

import tarfile
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from devtools.packages import every_package

PACKAGES = {package.import_name: package for package in every_package()}
PACKAGE_DATA = {
    "context_email": [f"context_email/templates/{kind}/{part}"
                      for kind in ("welcome", "report")
                      for part in ("subject.txt", "body.txt", "body.html")],
    "context_data": ["context_data/samples/orders.csv"],
    "context_report": ["context_report/templates/report.html.j2"],
}


def artifact(built: dict[str, Path], import_name: str, kind: str) -> Path:
    version = PACKAGES[import_name].version()
    suffix = "-py3-none-any.whl" if kind == "wheel" else ".tar.gz"
    return built[f"{import_name}-{version}{suffix}"]


def metadata(path: Path) -> str:
    """Return the core metadata of a wheel (METADATA) or an sdist (PKG-INFO)."""
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as wheel:
            (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
            return wheel.read(name).decode()
    with tarfile.open(path) as sdist:
        (member,) = [m for m in sdist.getmembers()
                     if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")]
        return sdist.extractfile(member).read().decode()


def test_building_all_packages_gives_a_wheel_and_an_sdist_of_each(built):
    expected = [artifact(built, name, kind).name
                for name in PACKAGES for kind in ("wheel", "sdist")]

    assert sorted(built) == sorted(expected)
    assert len(built) == 8


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
@pytest.mark.parametrize("import_name", sorted(PACKAGES))
def test_metadata_names_dependencies_by_version_range_only(built, import_name, kind):
    headers = HeaderParser().parsestr(metadata(artifact(built, import_name, kind)))
    lines = headers.get_all("Requires-Dist") or []

    assert headers["Name"] == PACKAGES[import_name].distribution
    assert lines, "every package depends on something"
    for line in lines:
        requirement = Requirement(line)
        assert requirement.url is None and "file:" not in line, line
        assert "/" not in line, f"a path in {line!r}"
        assert not requirement.name.startswith("context-"), f"another context: {line}"
    kernel = [Requirement(line) for line in lines if line.startswith("shared-kernel")]
    if import_name != "shared_kernel":
        assert len(kernel) == 1 and kernel[0].specifier, "the kernel by a range"


@pytest.mark.parametrize("import_name", sorted(PACKAGES))
def test_a_wheel_holds_only_its_own_package(built, import_name):
    wheel = artifact(built, import_name, "wheel")
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/")[0] for name in archive.namelist()}

    version = PACKAGES[import_name].version()
    assert tops == {import_name, f"{import_name}-{version}.dist-info"}


@pytest.mark.parametrize("import_name", sorted(PACKAGES))
def test_an_sdist_holds_only_its_own_package(built, import_name):
    sdist = artifact(built, import_name, "sdist")
    with tarfile.open(sdist) as archive:
        sources = {name.split("/")[2] for name in archive.getnames()
                   if name.split("/")[1:2] == ["src"] and name.count("/") >= 2}

    assert sources == {import_name}


@pytest.mark.parametrize("import_name", sorted(PACKAGE_DATA))
def test_templates_and_samples_are_inside_the_wheels(built, import_name):
    wheel = artifact(built, import_name, "wheel")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        missing = [name for name in PACKAGE_DATA[import_name] if name not in names]
        empty = [name for name in PACKAGE_DATA[import_name]
                 if name in names and not archive.read(name).strip()]

    assert not missing, f"{wheel.name} lacks {missing}"
    assert not empty, f"{wheel.name} holds empty {empty}"

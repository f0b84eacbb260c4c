"""compose.yaml: valid, and right for every machine a profile describes."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.envfile import parse_env_file
from tests.deploy.compose_model import (
    COMPOSE_FILE,
    CONTEXTS,
    ENVS,
    ROOT,
    active_services,
    compose,
    declared_profiles,
    dependencies,
    duration_s,
    profile_sets,
    services,
)

BIN = Path(sys.executable).parent
DEFAULT_SHUTDOWN_TIMEOUT_S = 30.0


def check_schema(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec",
         str(path)],
        capture_output=True, text=True, timeout=60,
    )


# Validity


def test_compose_file_validates_against_the_compose_specification():
    result = check_schema(COMPOSE_FILE)

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_misspelt_key(tmp_path):
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE_FILE.read_text().replace(
        "stop_grace_period: 40s", "stop_grace_periods: 40s"))

    result = check_schema(broken)

    assert result.returncode != 0
    assert "stop_grace_periods" in result.stdout + result.stderr


def test_every_file_the_services_name_exists():
    for name, service in services().items():
        for env_file in [service.get("env_file")] if service.get("env_file") else []:
            assert (ROOT / env_file).is_file(), f"{name}: {env_file}"
        if "build" in service:
            assert (ROOT / service["build"]["dockerfile"]).is_file(), name


# Profiles: one per machine of the deployment guide


def test_each_machine_of_the_guide_has_its_profile():
    assert {"redis", *CONTEXTS, "producer", "local"} <= declared_profiles()
    for context in CONTEXTS:
        assert context in active_services({context})
        assert active_services({context}).isdisjoint(
            {"redis", *(c for c in CONTEXTS if c != context)})
    assert active_services({"redis"}) == {"redis"}
    assert {"redis", *CONTEXTS} <= active_services({"local"})


@pytest.mark.parametrize("profiles", profile_sets(), ids=lambda p: ",".join(sorted(p)))
def test_every_required_dependency_is_defined_and_active_in_each_profile(profiles):
    active = active_services(set(profiles))

    for name in active:
        for target, spec in dependencies(services()[name]).items():
            assert target in services(), f"{name} depends on undefined {target}"
            if spec["required"]:
                assert target in active, (
                    f"with COMPOSE_PROFILES={','.join(sorted(profiles))}, {name} "
                    f"needs {target}, which that profile does not start")


def test_on_one_host_every_dependency_is_active_and_waited_for():
    producer_profiles = set(services()["producer"]["profiles"])
    active = active_services({"local"}) | active_services(producer_profiles)

    for name in active:
        for target in dependencies(services()[name]):
            assert target in active, f"{name} -> {target}"


def test_dependency_conditions_can_be_met():
    for name, service in services().items():
        for target, spec in dependencies(service).items():
            depended = services()[target]
            if spec["condition"] == "service_healthy":
                checked = "healthcheck" in depended or "build" in depended
                assert checked, f"{name} -> {target}"
            if spec["condition"] == "service_completed_successfully":
                assert depended.get("restart") == "no", f"{name} -> {target}"


def test_an_optional_dependency_is_only_the_broker_of_a_separate_machine():
    for name, service in services().items():
        for target, spec in dependencies(service).items():
            if not spec["required"]:
                assert target == "redis", f"{name} -> {target}"


# Consumers


@pytest.mark.parametrize("context", CONTEXTS)
def test_consumers_are_stopped_only_after_their_shutdown_timeout(context):
    service = services()[context]
    env = parse_env_file(ROOT / service["env_file"])
    timeout_s = float(env.get("SHUTDOWN_TIMEOUT_S") or DEFAULT_SHUTDOWN_TIMEOUT_S)

    grace_s = duration_s(service["stop_grace_period"])

    assert grace_s >= max(timeout_s, DEFAULT_SHUTDOWN_TIMEOUT_S) + 5
    assert "--shutdown-timeout-s" not in service.get("command", [])


@pytest.mark.parametrize("context", CONTEXTS)
def test_consumers_run_their_image_entrypoint_in_exec_form(context):
    service = services()[context]
    dockerfile = (ROOT / service["build"]["dockerfile"]).read_text()

    assert "entrypoint" not in service
    assert isinstance(service.get("command", []), list)
    assert f'ENTRYPOINT ["{context}-consume"]' in dockerfile
    assert service["build"]["dockerfile"] == f"services/{context}/Dockerfile"


@pytest.mark.parametrize("context", CONTEXTS)
def test_consumer_logs_go_to_their_context_folder_under_logs(context):
    service = services()[context]
    env = parse_env_file(ROOT / service["env_file"])

    assert f"./logs/{context}:{env['LOG_DIR']}/{context}" in service["volumes"]
    assert env["CONTEXT_NAME"] == context
    assert "container_name" not in service, "a fixed name prevents scaling"
    assert "ports" not in service, "a published port prevents scaling"


def test_the_log_folders_are_made_writable_for_the_images_user():
    init = services()["log-folders"]
    script = " ".join(init["command"])

    for context in (*CONTEXTS, "app"):
        assert f"/logs/{context}" in script
    assert "chown 10001:10001" in script
    for dockerfile in ROOT.glob("services/*/Dockerfile"):
        assert "USER 10001:10001" in dockerfile.read_text(), dockerfile


def test_every_long_running_service_restarts_and_one_shot_ones_do_not():
    for name, service in services().items():
        expected = "no" if name in ("log-folders", "producer") else "unless-stopped"
        assert service.get("restart") == expected, name


# Commands and secrets


def test_every_command_entrypoint_and_health_check_is_in_exec_form():
    for name, service in services().items():
        for key in ("command", "entrypoint"):
            if key in service:
                assert isinstance(service[key], list), f"{name}.{key}"
        if "healthcheck" in service:
            assert isinstance(service["healthcheck"]["test"], list), name


def test_no_password_is_written_in_the_compose_file():
    text = COMPOSE_FILE.read_text()
    secrets = {value for path in ENVS.glob(".env.*")
               for name, value in parse_env_file(path).items() if "PASSWORD" in name}

    for secret in secrets:
        assert secret not in text
    for name, service in services().items():
        environment = service.get("environment", {})
        names = environment if isinstance(environment, dict) else [
            item.split("=", 1)[0] for item in environment]
        assert not [n for n in names if "PASSWORD" in n or n == "REDIS_URL"], name
    assert not re.search(r"requirepass\s+[^\"$]", text)
    assert '--requirepass "$$REDIS_PASSWORD"' in text


def test_redis_keeps_what_it_acknowledged_and_never_evicts():
    redis = services()["redis"]
    command = " ".join(redis["command"])

    assert "--port 6380" in command
    assert "--appendonly yes" in command
    assert "--maxmemory-policy noeviction" in command
    assert redis["ports"] == ["${REDIS_EXPOSE:-127.0.0.1}:6380:6380"]
    assert "redis-data:/data" in redis["volumes"]
    assert "redis-data" in compose()["volumes"]

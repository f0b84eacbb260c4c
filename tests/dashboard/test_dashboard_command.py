"""``platform-dashboard``: where it listens, when it refuses to, and what it logs."""

import base64
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from devtools.redis_server import free_port
from shared_kernel.dashboard import DashboardSettings
from shared_kernel.errors import SettingsError
from tests.dashboard.support import TOKEN, bury, running_dashboard, welcome

BIN = Path(sys.executable).parent


def run(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "platform-dashboard"), *args], env=env,
                          capture_output=True, text=True, timeout=30)


class TestSettings:
    @pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.9", "localhost", "::1"])
    def test_loopback_addresses_need_no_token(self, host):
        assert DashboardSettings.from_env({}, host=host).token is None

    @pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "dashboard.lan"])
    def test_any_other_address_needs_a_token(self, host):
        with pytest.raises(SettingsError, match="set DASHBOARD_TOKEN"):
            DashboardSettings.from_env({}, host=host)
        assert DashboardSettings.from_env({"DASHBOARD_TOKEN": TOKEN}, host=host).token

    def test_options_win_over_the_environment(self):
        env = {"DASHBOARD_HOST": "127.0.0.2", "DASHBOARD_PORT": "9000"}

        assert DashboardSettings.from_env(env).port == 9000
        chosen = DashboardSettings.from_env(env, host="127.0.0.3", port=9001)
        assert (chosen.host, chosen.port) == ("127.0.0.3", 9001)

    def test_the_token_can_come_from_a_file(self, tmp_path):
        secret = tmp_path / "token"
        secret.write_text(f"{TOKEN}\n")

        settings = DashboardSettings.from_env({"DASHBOARD_TOKEN_FILE": str(secret)})

        assert settings.token == TOKEN
        assert TOKEN not in repr(settings)


class TestRefusals:
    def test_it_will_not_listen_beyond_loopback_without_a_token(self, platform_env):
        result = run(platform_env, "--host", "0.0.0.0")

        assert result.returncode == 2
        assert result.stderr.startswith("error: the dashboard would listen on 0.0.0.0")
        assert "DASHBOARD_TOKEN" in result.stderr and "Traceback" not in result.stderr

    @pytest.mark.parametrize("variable, value, expected", [
        ("DASHBOARD_TOKEN", "short-token", "at least 16 characters, it has 11"),
        ("DASHBOARD_PORT", "http", "DASHBOARD_PORT must be a number from 1 to 65535"),
        ("DASHBOARD_TOKEN_FILE", "/nonexistent/token", "cannot be read"),
    ])
    def test_a_bad_setting_stops_it_with_one_line(
        self, platform_env, variable, value, expected
    ):
        result = run(dict(platform_env, **{variable: value}))

        assert result.returncode == 2
        assert expected in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert "short-token" not in result.stderr

    def test_it_says_so_when_redis_is_out_of_reach(self, platform_env):
        env = dict(platform_env, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")

        result = run(env, "--port", str(free_port()))

        assert result.returncode == 2
        assert "cannot reach Redis" in result.stderr


def test_served_on_every_interface_it_requires_the_token_and_logs_actions(
    platform_env, redis_client, tmp_path
):
    dead = bury(redis_client, "email.welcome", welcome(1))
    env = dict(platform_env, DASHBOARD_TOKEN=TOKEN, DASHBOARD_HOST="0.0.0.0")
    console = tmp_path / "dashboard.console.txt"
    basic = base64.b64encode(f"ops:{TOKEN}".encode()).decode()
    auth = {"authorization": f"Basic {basic}"}

    with running_dashboard(env, console) as base, httpx.Client(timeout=5) as http:
        anonymous = http.get(f"{base}/")
        page = http.get(f"{base}/queues/email.welcome", headers=auth).text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        purged = http.post(f"{base}/queues/email.welcome/dead/{dead}/purge",
                           data={"csrf": csrf}, headers=auth)

    assert anonymous.status_code == 401 and purged.status_code == 303
    assert redis_client.zcard("dramatiq:email.welcome.XQ") == 0
    log = (Path(platform_env["LOG_DIR"]) / "app" / "app.log").read_text()
    port = base.rsplit(":", 1)[1]
    assert re.search(r"\| dashboard \| .*Dashboard of redis://127.0.0.1:\d+/0 on "
                     rf"http://0.0.0.0:{port}/ \(token required\)", log)
    assert re.search(rf"\| dashboard \| .*Client 127.0.0.1:\d+ purged dead letter "
                     rf"{dead} of email.welcome", log)
    for text in (log, console.read_text()):
        assert TOKEN not in text and csrf not in text

"""The deployment guide's five machines, run as processes in network namespaces.

Machine 1 runs Redis, machines 2 to 4 one context's consumer each, machine 5
the producer. Every process starts through the console script a deployment
runs, with the environment of its machine's file in ``deploy/envs/``, filled
in as the guide tells an operator to: the broker's address and password, and
what differs on this host (folders, the SMTP server, short heartbeats).
"""

import email
import email.policy
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from devtools.envfile import fill_env_file, parse_env_file
from devtools.redis_server import find_redis_server, generate_password
from shared_kernel import QueueNames
from tests.helpers import wait_for
from tests.multihost.network import Network

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
REDIS_PORT = 6380
SMTP_PORT = 2525
MACHINES = {"redis": 1, "email": 2, "data": 3, "report": 4, "producer": 5}

# Short heartbeats so a consumer that lost its link is noticed within seconds.
DELIVERY = {"HEARTBEAT_TIMEOUT_S": "3", "UPKEEP_INTERVAL_S": "0.5"}

_BROKER_STATE = """
import json, os, sys, redis
client = redis.Redis(host=sys.argv[1], port=int(sys.argv[2]),
                     password=os.environ["REDIS_PASSWORD"], socket_timeout=5)
state = {}
for queue in sys.argv[3:]:
    key = "dramatiq:" + queue
    held = sum(client.scard(acks)
               for acks in client.scan_iter("dramatiq:__acks__.*." + queue))
    state[queue] = {"waiting": client.llen(key), "held": held,
                    "stored": client.hlen(key + ".msgs"),
                    "delayed": client.hlen(key + ".DQ.msgs"),
                    "dead": client.zcard(key + ".XQ")}
print(json.dumps(state))
"""


class Deployment:
    """Start, drive and stop the platform across the machines of ``network``."""

    def __init__(self, network: Network, folder: Path) -> None:
        self.network = network
        self.folder = folder
        self.password = generate_password() + "$HOME"
        self.mail_folder = folder / "mail"
        self._processes: list[subprocess.Popen] = []

    @property
    def redis_host(self) -> str:
        return self.network.address(MACHINES["redis"])

    # Starting the machines

    def start(self) -> None:
        """Start Redis, the SMTP sink and the three consumers; wait for them."""
        self._start_redis()
        self._start_smtp_sink()
        for context in ("email", "data", "report"):
            self._spawn(context, [str(BIN / f"{context}-consume"), "--threads", "4"],
                        env=self.machine_env(context))
        for context in ("email", "data", "report"):
            log = self.folder / context / "logs" / context / f"{context}.log"
            started = f"Consumer {context} started"
            up = wait_for(lambda: log.exists() and started in log.read_text(),
                          timeout_s=40)
            assert up, f"{context} did not start: {self.console(context)}"

    def machine_env(self, machine: str) -> dict[str, str]:
        """Return the environment of ``machine`` from its filled-in env file."""
        home = self.folder / machine
        values = {
            "REDIS_HOST": self.redis_host,
            "REDIS_PASSWORD": self.password,
            "LOG_DIR": str(home / "logs"),
            **DELIVERY,
            **self._host_specific(machine, home),
        }
        home.mkdir(parents=True, exist_ok=True)
        env_file = fill_env_file(ROOT / "deploy" / "envs" / f".env.{machine}",
                                 home / f".env.{machine}", values)
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
                "LANG": "C.UTF-8", **parse_env_file(env_file)}

    def _host_specific(self, machine: str, home: Path) -> dict[str, str]:
        if machine == "email":
            # This host's mail server is a sink without TLS or login.
            return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(SMTP_PORT),
                    "SMTP_STARTTLS": "false", "SMTP_USER": "", "SMTP_PASSWORD": ""}
        if machine == "data":
            return {"DATA_DIR": str(home / "data")}
        if machine == "report":
            return {"REPORT_DIR": str(home / "reports")}
        return {}

    def _start_redis(self) -> None:
        home = self.folder / "redis"
        home.mkdir(parents=True)
        config = home / "redis.conf"
        config.write_text("\n".join([
            f"bind {self.redis_host}",
            f"port {REDIS_PORT}",
            f"dir {home}",
            "appendonly yes",
            "appendfsync everysec",
            "maxmemory-policy noeviction",
            "save ''",
            f"logfile {home / 'redis.log'}",
            f'requirepass "{self.password}"',
        ]) + "\n")
        config.chmod(0o600)
        self._spawn("redis", [find_redis_server(), str(config)], env={})
        assert wait_for(self._redis_answers_the_producer_machine, timeout_s=15), (
            "Redis on machine 1 is not reachable from machine 5")

    def _redis_answers_the_producer_machine(self) -> bool:
        redis_cli = Path(find_redis_server()).with_name("redis-cli")
        result = subprocess.run(
            self.network.command(MACHINES["producer"], [
                str(redis_cli), "--no-auth-warning",
                "-h", self.redis_host, "-p", str(REDIS_PORT), "ping"]),
            env={"REDISCLI_AUTH": self.password}, capture_output=True, text=True,
            timeout=10,
        )
        return result.stdout.strip() == "PONG"

    def _start_smtp_sink(self) -> None:
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}
        self._spawn("smtp", [sys.executable, "-m", "tests.multihost.smtp_host",
                             str(self.mail_folder), str(SMTP_PORT)],
                    env=env, machine=MACHINES["email"], cwd=ROOT)
        assert wait_for(lambda: "ready" in self.console("smtp"), timeout_s=15), (
            f"the SMTP sink did not start: {self.console('smtp')}")

    def _spawn(self, name: str, argv: list[str], *, env: dict[str, str],
               machine: int | None = None, cwd: Path | None = None) -> None:
        machine = machine or MACHINES[name]
        output = open(self.folder / f"{name}.console.txt", "wb")
        self._processes.append(subprocess.Popen(
            self.network.command(machine, argv), env=env, cwd=cwd or self.folder,
            stdout=output, stderr=subprocess.STDOUT,
        ))

    # Driving and observing

    def produce(self, *args: str) -> list[str]:
        """Run ``platform-produce`` on machine 5; return the lines it printed."""
        result = subprocess.run(
            self.network.command(MACHINES["producer"],
                                 [str(BIN / "platform-produce"), *args]),
            env=self.machine_env("producer"), cwd=self.folder,
            capture_output=True, text=True, timeout=60,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout.splitlines()

    def mails(self) -> list[email.message.EmailMessage]:
        """Return every mail the email machine's SMTP sink received so far."""
        return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                for path in sorted(self.mail_folder.glob("*.eml"))]

    def broker_state(self) -> dict[str, dict[str, int]]:
        """Return, per queue, the messages Redis still has, read from machine 5.

        ``waiting`` are in the queue, ``held`` fetched by a consumer and not yet
        acknowledged, ``stored`` both (the payloads), ``dead`` dead-lettered.
        """
        result = subprocess.run(
            self.network.command(MACHINES["producer"], [
                sys.executable, "-c", _BROKER_STATE, self.redis_host, str(REDIS_PORT),
                *[str(queue) for queue in QueueNames]]),
            env={"REDIS_PASSWORD": self.password}, capture_output=True, text=True,
            timeout=30,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def console(self, name: str) -> str:
        """Return what process ``name`` printed (its last 3000 characters)."""
        path = self.folder / f"{name}.console.txt"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    # Stopping

    def stop(self) -> None:
        """Stop every process, the consumers before the servers they use."""
        for process in reversed(self._processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)

"""The status command: every queue and consumer of the platform at a glance.

``platform-status`` (``hatch run status``) prints, per context and queue, what
is waiting, delayed, in flight and dead, the age of the oldest waiting message
and what was processed in the last minute; then every consumer with its last
heartbeat. It reads Redis with bounded commands only: LLEN, HLEN, ZCARD,
LINDEX and HGET of one message, and SCAN for the consumer records.
"""

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass

import redis

from shared_kernel.broker import NAMESPACE, redis_client
from shared_kernel.cli import exit_on_user_error
from shared_kernel.queues import ContextQueues
from shared_kernel.settings import Settings
from shared_kernel.stats import minute_key
from shared_kernel.tracing import read_trace
from shared_kernel.upkeep import CONSUMERS_PREFIX


@dataclass(frozen=True, slots=True)
class QueueStatus:
    """The state of one queue."""

    context: str
    queue: str
    waiting: int
    delayed: int
    in_flight: int
    dead: int
    oldest_waiting_s: float | None
    processed_1m: int


@dataclass(frozen=True, slots=True)
class ConsumerStatus:
    """What one consumer process last said about itself."""

    context: str
    host: str
    pid: int
    queues: str
    last_beat_s: float
    alive: bool


def read_status(client: redis.Redis, settings: Settings) -> dict:
    """Return the queues and consumers as plain data (the ``--json`` shape)."""
    now_s = time.time()
    queues = [
        _queue_status(client, context, queue, now_s)
        for context, names in ContextQueues.items()
        for queue in names
    ]
    consumers = _consumers(client, now_s, settings.delivery.heartbeat_timeout_s)
    return {
        "redis": settings.redis.address,
        "at": round(now_s, 3),
        "queues": [asdict(queue) for queue in queues],
        "consumers": [asdict(consumer) for consumer in consumers],
    }


def _queue_status(client: redis.Redis, context: str, queue: str, now_s: float):
    key = f"{NAMESPACE}:{queue}"
    minute = int(now_s // 60)
    with client.pipeline(transaction=False) as pipe:
        pipe.llen(key)
        pipe.hlen(f"{key}.msgs")
        pipe.hlen(f"{key}.DQ.msgs")
        pipe.zcard(f"{key}.XQ")
        pipe.lindex(key, 0)
        pipe.hget(minute_key(queue, minute), "processed")
        pipe.hget(minute_key(queue, minute - 1), "processed")
        waiting, stored, delayed, dead, oldest, this_minute, last_minute = (
            pipe.execute()
        )
    elapsed = (now_s % 60) / 60
    processed = int(this_minute or 0) + int(int(last_minute or 0) * (1 - elapsed))
    return QueueStatus(
        context=context,
        queue=queue,
        waiting=waiting,
        delayed=delayed,
        in_flight=max(stored - waiting, 0),
        dead=dead,
        oldest_waiting_s=_age_s(client, key, oldest, now_s),
        processed_1m=processed,
    )


def _age_s(client: redis.Redis, key: str, redis_id: bytes | None, now_s: float):
    if redis_id is None:
        return None
    payload = client.hget(f"{key}.msgs", redis_id)
    try:
        sent_ms = json.loads(payload)["message_timestamp"]
    except (TypeError, ValueError, KeyError):
        return None
    return round(max(now_s - sent_ms / 1000, 0.0), 1)


def _consumers(client: redis.Redis, now_s: float, timeout_s: float):
    found = []
    for key in client.scan_iter(f"{CONSUMERS_PREFIX}*", count=200):
        fields = {k.decode(): v.decode() for k, v in client.hgetall(key).items()}
        if not fields:
            continue
        age_s = round(now_s - float(fields.get("beat_ms", 0)) / 1000, 1)
        found.append(
            ConsumerStatus(
                context=fields.get("context", "?"),
                host=fields.get("host", "?"),
                pid=int(fields.get("pid", 0)),
                queues=fields.get("queues", ""),
                last_beat_s=age_s,
                alive=age_s <= timeout_s,
            )
        )
    return sorted(found, key=lambda c: (c.context, c.host, c.pid))


def render(status: dict) -> str:
    """Render the status as two text tables."""
    lines = [
        f"Redis {status['redis']}",
        "",
        f"{'context':<8} {'queue':<14} {'waiting':>8} {'delayed':>8} "
        f"{'in flight':>9} {'dead':>6} {'oldest':>8} {'done/1m':>8}",
    ]
    for q in status["queues"]:
        oldest = "-" if q["oldest_waiting_s"] is None else f"{q['oldest_waiting_s']:g}s"
        lines.append(
            f"{q['context']:<8} {q['queue']:<14} {q['waiting']:>8} "
            f"{q['delayed']:>8} {q['in_flight']:>9} {q['dead']:>6} "
            f"{oldest:>8} {q['processed_1m']:>8}"
        )
    lines += ["", f"{'context':<8} {'host':<20} {'pid':>7} {'last beat':>10}  state"]
    for c in status["consumers"]:
        state = "alive" if c["alive"] else "DEAD"
        lines.append(
            f"{c['context']:<8} {c['host'][:20]:<20} {c['pid']:>7} "
            f"{c['last_beat_s']:>9g}s  {state}"
        )
    if not status["consumers"]:
        lines.append("(no consumer has reported in)")
    return "\n".join(lines)


def _print_trace(client: redis.Redis, correlation_id: str, *, as_json: bool) -> None:
    hops = read_trace(client, correlation_id)
    if as_json:
        print(json.dumps(hops, indent=2))
        return
    if not hops:
        print(
            f"no message with correlation id {correlation_id} was handled "
            "in the last day"
        )
        return
    start = hops[0]["at"]
    for hop in hops:
        print(
            f"+{hop['at'] - start:7.3f}s  {hop['context']:<7} {hop['queue']:<14} "
            f"{hop['actor']:<20} {hop['outcome']:<8} {hop['took_ms']} ms  "
            f"{hop['message_id']}"
        )


def _serve_metrics(client: redis.Redis, settings: Settings, port: int) -> None:
    from shared_kernel.metrics import serve_queue_depths

    serve_queue_depths(lambda: read_status(client, settings), port)
    print(f"serving queue depths on http://127.0.0.1:{port}/metrics", flush=True)
    while True:
        time.sleep(3600)


def _interval_s(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0.1 <= value <= 3600:
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds from 0.1 to 3600, got {text!r}"
        )
    return value


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(
            f"must be a port number from 1 to 65535, got {text!r}"
        )
    return int(text)


def main(argv: list[str] | None = None) -> None:
    """Print the status once, as JSON, or refreshed in place with ``--watch``."""
    parser = argparse.ArgumentParser(prog="platform-status", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--watch", action="store_true", help="refresh in place")
    parser.add_argument("--interval-s", type=_interval_s, default=2.0)
    parser.add_argument(
        "--serve-metrics",
        type=_port,
        metavar="PORT",
        help="serve queue depths as Prometheus gauges on PORT",
    )
    parser.add_argument(
        "--trace",
        metavar="CORRELATION_ID",
        help="show the path of one correlation id instead",
    )
    args = parser.parse_args(argv)
    with exit_on_user_error():
        settings = Settings.from_env()
        client = redis_client(settings.redis)
        if args.trace:
            _print_trace(client, args.trace, as_json=args.json)
            return
        if args.serve_metrics:
            _serve_metrics(client, settings, args.serve_metrics)
            return
        while True:
            status = read_status(client, settings)
            text = json.dumps(status, indent=2) if args.json else render(status)
            if args.watch:
                sys.stdout.write("\x1b[H\x1b[2J")  # home, clear: refresh in place
            print(text, flush=True)
            if not args.watch:
                return
            time.sleep(args.interval_s)

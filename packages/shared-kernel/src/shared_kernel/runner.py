"""The consumer runner: one context's Dramatiq worker on exactly its queues.

Each context's ``consumer.py`` calls :func:`run_consumer` with a ``setup``
function, its composition root, which reads the context's own settings, builds
its adapters and imports its actors. The runner installs the broker before
``setup`` runs, because Dramatiq binds actors to the broker at import.
"""

import argparse
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from dramatiq import Worker
from loguru import logger

from shared_kernel.broker import install_broker
from shared_kernel.cli import (
    MISSING_DATABASE,
    USAGE_EXIT_CODE,
    exit_on_user_error,
    is_missing_database,
)
from shared_kernel.errors import PlatformError, SettingsError
from shared_kernel.logs import configure_logging
from shared_kernel.queues import queues_for
from shared_kernel.redis_broker import PlatformRedisBroker
from shared_kernel.settings import Settings

Setup = Callable[[Settings], None]

CONNECT_RETRY_MAX_S = 10.0


@dataclass(frozen=True, slots=True)
class ConsumerOptions:
    """How many processes and threads to run, and how long to drain on stop."""

    processes: int = 1
    threads: int = 8
    shutdown_timeout_s: float = 30.0


def run_consumer(context: str, setup: Setup, argv: list[str] | None = None) -> None:
    """Run the consumer of ``context`` until SIGTERM or SIGINT, then exit.

    Args:
        context: The context's name, a key of ``ContextQueues``.
        setup: The context's composition root; runs in every worker process
            after the broker is installed.
        argv: Command-line arguments; ``sys.argv[1:]`` when not given.
    """
    with exit_on_user_error():
        options = _parse_args(context, argv)
        settings = Settings.from_env(context=context)
        settings.require_secure()
        if options.processes == 1:
            sys.exit(_serve(context, setup, options))
        _prepare(settings, setup)
        sys.exit(_supervise(context, setup, options))


def _parse_args(context: str, argv: list[str] | None) -> ConsumerOptions:
    parser = argparse.ArgumentParser(
        prog=f"{context}-consume",
        description=f"Run the {context} context's consumer on its queues: "
        + ", ".join(queues_for(context)),
    )
    parser.add_argument("--processes", type=_positive_int, default=1)
    parser.add_argument("--threads", type=_positive_int, default=8)
    parser.add_argument(
        "--shutdown-timeout-s",
        type=_timeout_argument,
        default=_shutdown_timeout_s(os.environ.get("SHUTDOWN_TIMEOUT_S", "")),
        help="how long in-flight messages may take to finish on SIGTERM "
        "(default: SHUTDOWN_TIMEOUT_S or 30)",
    )
    args = parser.parse_args(argv)
    return ConsumerOptions(args.processes, args.threads, args.shutdown_timeout_s)


def _shutdown_timeout_s(raw: str) -> float:
    if not raw.strip():
        return 30.0
    value = _seconds_or_none(raw)
    if value is None:
        raise SettingsError(
            f"SHUTDOWN_TIMEOUT_S must be a number of seconds above 0 and at most "
            f"3600, got {raw!r}"
        )
    return value


def _timeout_argument(text: str) -> float:
    value = _seconds_or_none(text)
    if value is None:
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds above 0 and at most 3600, got {text!r}"
        )
    return value


def _seconds_or_none(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0 < value <= 3600 else None


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(
            f"must be a whole number of 1 or more, got {text!r}"
        )
    return int(text)


def _prepare(settings: Settings, setup: Setup) -> PlatformRedisBroker:
    """Validate settings and the context's wiring without consuming anything."""
    configure_logging(settings)
    broker = install_broker(settings)
    _import_shared_actors()
    setup(settings)
    return broker


def _serve(context: str, setup: Setup, options: ConsumerOptions) -> int:
    """Run one worker process; return its exit code."""
    with exit_on_user_error():
        settings = Settings.from_env(context=context)
        broker = _prepare(settings, setup)
        stop = _stop_event()
        _wait_for_redis(broker.client, settings, stop)
        if stop.is_set():
            return 0
        _check_actors(broker, context)

        worker = build_worker(
            broker, queues_for(context), threads=options.threads, settings=settings
        )
        worker.start()
        logger.info(
            "Consumer {} started: pid {}, {} threads, queues {}, Redis {}",
            context,
            os.getpid(),
            options.threads,
            ", ".join(queues_for(context)),
            settings.redis.address,
        )
        stop.wait()

        logger.info(
            "Consumer {} stopping: draining for up to {} s",
            context,
            options.shutdown_timeout_s,
        )
        worker.stop(timeout=int(options.shutdown_timeout_s * 1000))
        _release(broker, context)
        logger.info("Consumer {} stopped", context)
        if any(thread.is_alive() for thread in worker.workers):
            _exit_now()
        broker.close()
        return 0


def build_worker(
    broker: PlatformRedisBroker, queues, *, threads: int, settings: Settings
) -> Worker:
    """Return the (not yet started) Dramatiq worker of a consumer process."""
    worker = Worker(broker, queues=set(queues), worker_threads=threads)
    # The consumers return what their threads do not start in time, so a
    # large window keeps the threads busy without keeping messages back.
    worker.queue_prefetch = settings.delivery.prefetch
    return worker


def _exit_now() -> None:
    """Exit at once, leaving threads still inside a task where they are.

    Their messages went back to the queues; letting the interpreter finalize
    around a thread inside native code (DuckDB, a socket) can abort the process.
    """
    logger.complete()
    logger.remove()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _release(broker: PlatformRedisBroker, context: str) -> None:
    """Return what is still held (work past the timeout) to the queues."""
    try:
        released = broker.release(queues_for(context))
    except (redis.ConnectionError, redis.TimeoutError) as error:
        logger.warning(
            "Could not return unfinished messages ({}); they come back "
            "once this consumer's heartbeat times out",
            error,
        )
        return
    if released:
        logger.warning("Returned {} unfinished message(s) to their queues", released)


def _import_shared_actors() -> None:
    # Every consumer listens on the shared queues, so every consumer must
    # have their actors imported, or Dramatiq would dead-letter the messages.
    import shared_kernel.shared_jobs  # noqa: F401


def _check_actors(broker, context: str) -> None:
    declared = broker.get_declared_queues()
    missing = [queue for queue in queues_for(context) if queue not in declared]
    if missing:
        raise PlatformError(
            f"the {context} consumer has no actor for queue(s) {', '.join(missing)}: "
            "import the module that declares them in the context's setup()"
        )


def _stop_event() -> threading.Event:
    stop = threading.Event()

    def request_stop(signum, frame):
        logger.info(
            "Received {}; finishing in-flight work", signal.Signals(signum).name
        )
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    return stop


def _wait_for_redis(
    client: redis.Redis, settings: Settings, stop: threading.Event
) -> None:
    """Block until Redis answers; a wrong password is fatal, an outage is not."""
    delay_s, warned = 0.5, False
    while not stop.is_set():
        try:
            client.ping()
        except redis.AuthenticationError as error:
            raise SettingsError(
                f"Redis at {settings.redis.address} refused the credentials: "
                "check REDIS_PASSWORD (and REDIS_USERNAME)"
            ) from error
        except redis.ResponseError as error:
            if not is_missing_database(error):
                raise
            raise SettingsError(
                f"Redis at {settings.redis.address} {MISSING_DATABASE}"
            ) from error
        except (redis.ConnectionError, redis.TimeoutError) as error:
            if not warned:
                logger.warning(
                    "Redis at {} is unreachable ({}); waiting for it",
                    settings.redis.address,
                    error,
                )
                warned = True
            stop.wait(delay_s)
            delay_s = min(delay_s * 2, CONNECT_RETRY_MAX_S)
        else:
            if warned:
                logger.info("Redis at {} is reachable again", settings.redis.address)
            return


def _supervise(context: str, setup: Setup, options: ConsumerOptions) -> int:
    """Run ``options.processes`` worker processes; restart any that crash."""
    spawn = multiprocessing.get_context("spawn")
    single = ConsumerOptions(1, options.threads, options.shutdown_timeout_s)
    stop = _stop_event()

    def start(index: int) -> multiprocessing.Process:
        process = spawn.Process(target=_child, args=(context, setup, single, index))
        process.start()
        return process

    children = [start(index) for index in range(options.processes)]
    logger.info("Consumer {} supervising {} processes", context, len(children))
    exit_code = 0
    while not stop.wait(0.5):
        for index, child in enumerate(children):
            if child.is_alive() or child.exitcode == 0:
                continue
            if child.exitcode == USAGE_EXIT_CODE:
                # A setting a restart cannot fix: stop the whole consumer.
                exit_code = USAGE_EXIT_CODE
                stop.set()
                break
            logger.warning(
                "Process {} exited with {}; restarting it", child.pid, child.exitcode
            )
            time.sleep(1)
            children[index] = start(index)

    _stop_children(children, options.shutdown_timeout_s)
    failed = [c.exitcode for c in children if c.exitcode not in (0, -signal.SIGTERM)]
    return exit_code or (max(failed) if failed else 0)


def _stop_children(children, shutdown_timeout_s: float) -> None:
    for child in children:
        if child.is_alive():
            os.kill(child.pid, signal.SIGTERM)
    for child in children:
        child.join(shutdown_timeout_s + 5)
        if child.is_alive():
            child.kill()
            child.join()


def _child(context: str, setup: Setup, options: ConsumerOptions, index: int) -> None:
    # Each worker process serves its metrics on its own port.
    port = os.environ.get("METRICS_PORT", "").strip()
    if port.isdigit() and int(port):
        os.environ["METRICS_PORT"] = str(int(port) + index)
    sys.exit(_serve(context, setup, options))

"""Storing many messages at once: batches, with the next one encoded while
Redis stores the one before.

Each batch is one call of the store script (see :mod:`shared_kernel.storing`),
stored whole or not at all. One batch is on the wire at a time, and batches
are stored in order, so when Redis stays unreachable the messages stored so
far are exactly the batches before the one that failed.
"""

from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor

import dramatiq

from shared_kernel.ids import new_ids


def enqueue_many(broker, messages, *, batch_size: int) -> list[dramatiq.Message]:
    """Store ``messages`` on ``broker`` in batches; return them as stored.

    Raises:
        MessageTooLarge: When a message is over the size limit; the batches
            before its own were stored.
        BrokerUnavailable: When Redis stayed unreachable; its ``stored``
            holds the messages stored before.
    """
    messages = list(messages)
    batches = [
        (queue_name, group[start : start + batch_size])
        for queue_name, group in _by_queue(messages).items()
        for start in range(0, len(group), batch_size)
    ]
    run = _Run(broker, total=len(messages))
    if len(batches) == 1:
        run.send(*batches[0], sender=None)
    else:
        with ThreadPoolExecutor(1, thread_name_prefix="bulk-store") as sender:
            for queue_name, batch in batches:
                run.send(queue_name, batch, sender=sender)
            run.finish()
    return run.stored


class _Run:
    """One call of :func:`enqueue_many`: what is stored, what is on the wire."""

    def __init__(self, broker, *, total: int) -> None:
        self.broker = broker
        self.total = total
        self.stored: list[dramatiq.Message] = []
        self._before = broker.hooks("before_enqueue")
        self._after = broker.hooks("after_enqueue")
        self._in_flight: tuple[Future, list] | None = None

    def send(self, queue_name: str, batch: list, *, sender) -> None:
        try:
            entries = self._prepared(batch)
        except Exception as error:
            self.finish()  # what is on the wire lands first, or fails first
            self._raise(error)
        self.finish()
        what = f"a batch of {len(batch)} messages for {queue_name} was not stored"
        store = self.broker.store_entries
        if sender is None:
            store(queue_name, entries, what=what)
            self._stored(batch)
            return
        future = sender.submit(store, queue_name, entries, what=what)
        self._in_flight = (future, batch)

    def finish(self) -> None:
        if self._in_flight is None:
            return
        future, batch = self._in_flight
        self._in_flight = None
        try:
            future.result()
        except Exception as error:
            self._raise(error)
        self._stored(batch)

    def _prepared(self, batch: list) -> list[tuple[str, str]]:
        for message, redis_id in zip(batch, new_ids(len(batch))):
            message.options["redis_message_id"] = redis_id
            for hook in self._before:
                hook(self.broker, message, None)
        encoded = self.broker.encoded
        return [(m.options["redis_message_id"], encoded(m)) for m in batch]

    def _stored(self, batch: list) -> None:
        for message in batch:
            for hook in reversed(self._after):
                hook(self.broker, message, None)
        self.stored += batch

    def _raise(self, error: Exception) -> None:
        failure = self._failure(error)
        if failure is error:
            raise error
        raise failure from error

    def _failure(self, error: Exception) -> Exception:
        message = getattr(error, "message", None)
        if message is None or not hasattr(error, "stored"):
            return error
        extra = {"refused": error.refused} if hasattr(error, "refused") else {}
        return type(error)(
            f"{message}; {len(self.stored)} of {self.total} messages were stored "
            "(the error's stored lists them) and the rest were not",
            stored=list(self.stored),
            **extra,
        )


def _by_queue(messages: list[dramatiq.Message]) -> dict[str, list]:
    groups: dict[str, list] = defaultdict(list)
    for message in messages:
        groups[message.queue_name].append(message)
    return groups

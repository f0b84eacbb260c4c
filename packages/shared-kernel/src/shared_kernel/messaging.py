"""Sending contracts to their queues, and actors that receive them.

A producer sends a contract by queue and actor name, so it never imports the
context that handles it. A receiving actor validates the payload against the
same contract before any domain code runs.
"""

import contextlib
import gc
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import dramatiq
from pydantic import ValidationError

from shared_kernel.broker import MAX_MESSAGE_BYTES, current_broker
from shared_kernel.contracts import Contract, Route, routes_for
from shared_kernel.errors import ContractError, PermanentError
from shared_kernel.ids import new_id, new_ids, new_message_id, new_message_ids
from shared_kernel.middleware import current_idempotency_key, current_message
from shared_kernel.redis_broker import MessageTooLarge

C = TypeVar("C", bound=Contract)

DEFAULT_BATCH_SIZE = 500
MAX_BATCH_SIZE = 1000


def send(
    contract: Contract,
    *,
    idempotency_key: str | None = None,
    correlation_id: str | None = None,
    delay_ms: int | None = None,
    broker: dramatiq.Broker | None = None,
) -> list[dramatiq.Message]:
    """Enqueue ``contract`` on the queue of every actor that handles it.

    Args:
        contract: The command or event to send; already validated.
        idempotency_key: Messages with the same key have one effect. Inside a
            task it defaults to one derived from the task's own key, so a task
            that runs again sends duplicates its receivers recognise; elsewhere
            to the message id, so only redeliveries of this message repeat it.
        correlation_id: Ties together every message of one request. Defaults
            to the id of the message being handled, or a new one.
        delay_ms: Hold the message back this long before it can run.
        broker: The broker to use instead of the installed one.

    Raises:
        ContractError: When the encoded message is too large to send.
    """
    broker = broker or current_broker()
    payload = contract.model_dump(mode="json")
    options = _options(idempotency_key, correlation_id, type(contract))
    messages = [
        _message(route, payload, options) for route in routes_for(type(contract))
    ]
    if not hasattr(broker, "encoded"):
        _check_size(messages[0], type(contract))  # the kernel's broker checks
    return [broker.enqueue(message, delay=delay_ms) for message in messages]


def send_many(
    contracts: Iterable[Contract],
    *,
    correlation_id: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    broker: dramatiq.Broker | None = None,
) -> list[dramatiq.Message]:
    """Enqueue many contracts in batches: one Redis call per batch.

    Each message is stored whole or not at all, exactly as :func:`send`
    stores it, and any Dramatiq worker consumes it. Each contract gets its
    own idempotency key (the message id, or inside a task one derived from
    the task's key and the contract's position).

    Args:
        contracts: Validated commands or events, of any types.
        correlation_id: Ties them together; by default each has its own.
        batch_size: Messages per Redis call, from 1 to 1000.
        broker: The broker to use instead of the installed one.

    Raises:
        ContractError: When an item is not a contract, or ``batch_size`` is
            out of range; nothing was stored.
        MessageTooLarge: When an item's message is over the size limit. It
            names the item; batches stored before it was found (they go queue
            by queue, so not only earlier items) stay stored, and ``stored``
            lists them.
        BrokerUnavailable: When Redis stayed unreachable; ``stored`` lists
            what was stored before.
    """
    broker = broker or current_broker()
    if not _whole_number(batch_size) or not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ContractError(
            f"batch_size must be a whole number from 1 to {MAX_BATCH_SIZE}, "
            f"got {batch_size!r}; nothing was stored"
        )
    with _cyclic_gc_paused():
        contracts = list(contracts)
        messages = _messages_for(contracts, correlation_id)
        if not hasattr(broker, "enqueue_many"):
            return [broker.enqueue(message) for message in messages]
        try:
            return broker.enqueue_many(messages, batch_size=batch_size)
        except MessageTooLarge as error:
            raise _naming_the_item(error, contracts, messages) from None


def _whole_number(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _naming_the_item(
    error: MessageTooLarge, contracts: list, messages: list
) -> MessageTooLarge:
    # Worked out only when a message is refused: sends keep no index.
    position = next(
        (i for i, message in enumerate(messages) if message is error.refused), None
    )
    where = ""
    if position is not None:
        first = 0
        for index, contract in enumerate(contracts):
            first += len(routes_for(type(contract)))
            if position < first:
                where = f"item {index} ({type(contract).__name__}): "
                break
    return MessageTooLarge(
        f"{where}{error.message}", refused=error.refused, stored=error.stored
    )


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    # A bulk send makes a dozen objects per message, none in a cycle, and
    # keeps them all: the collector would walk the growing heap again and
    # again for nothing (a quarter of the time of a large send).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _message_count(contracts: list) -> int:
    return sum(
        len(routes_for(type(c))) for c in contracts if isinstance(c, Contract)
    )


def _messages_for(
    contracts: list, correlation_id: str | None
) -> list[dramatiq.Message]:
    ids = iter(new_message_ids(_message_count(contracts)))
    if correlation_id is None and current_message() is None:
        # Each its own, made at once as the message ids are.
        correlations = new_ids(len(contracts))
    else:
        correlations = [correlation_id] * len(contracts)
    messages = []
    for index, contract in enumerate(contracts):
        messages += _messages_of(contract, index, correlations[index], ids)
    return messages


def _messages_of(
    contract: Contract, index: int, correlation_id: str | None, ids
) -> list[dramatiq.Message]:
    if not isinstance(contract, Contract):
        raise ContractError(
            f"item {index} is a {type(contract).__name__}, not a contract; pass "
            "contract objects such as SendWelcomeEmail(...); nothing was stored"
        )
    contract_type = type(contract)
    key = None
    if current_message() is not None:
        key = f"{current_idempotency_key()}>{contract_type.__name__}#{index}"
    options = _options(key, correlation_id, contract_type)
    payload = contract.model_dump(mode="json")
    return [
        _message(route, payload, options, message_id=next(ids))
        for route in routes_for(contract_type)
    ]


def receive(contract_type: type[C], payload: Any) -> C:
    """Validate a received payload against its contract.

    Raises:
        PermanentError: When it does not match; retrying cannot fix that.
    """
    try:
        return contract_type.model_validate(payload)
    except ValidationError as error:
        raise PermanentError(
            f"payload does not match the {contract_type.__name__} contract: "
            f"{describe_validation_error(error)}"
        ) from None


def describe_validation_error(error: ValidationError) -> str:
    """Summarise a validation error on one line: each field and what is wrong."""
    faults = []
    for item in error.errors(include_url=False):
        where = ".".join(str(part) for part in item["loc"]) or "payload"
        faults.append(f"{where}: {item['msg']}")
    return "; ".join(faults)


def contract_actor(
    contract_type: type[C], *, route: Route | None = None, **options: Any
) -> Callable[[Callable[[C], Any]], dramatiq.Actor]:
    """Declare the actor that handles ``contract_type`` on its routed queue.

    The decorated function receives the validated contract. A payload that
    does not validate, and any :class:`PermanentError`, fails the message at
    once (dead letter) instead of retrying it.
    """
    routes = routes_for(contract_type)
    chosen = route or routes[0]
    if chosen not in routes:
        raise ValueError(f"{chosen} is not a route of {contract_type.__name__}")

    def decorator(handler: Callable[[C], Any]) -> dramatiq.Actor:
        def handle(*args: Any, **kwargs: Any) -> Any:
            if len(args) != 1 or kwargs:
                raise PermanentError(
                    f"a {contract_type.__name__} message carries one JSON object "
                    f"argument, got {len(args)} positional and {len(kwargs)} keyword "
                    "arguments"
                )
            return handler(receive(contract_type, args[0]))

        handle.__name__ = handle.__qualname__ = chosen.actor
        handle.__module__ = handler.__module__
        handle.__doc__ = handler.__doc__
        return dramatiq.actor(
            handle,
            actor_name=chosen.actor,
            queue_name=str(chosen.queue),
            throws=(PermanentError,),
            **options,
        )

    return decorator


def _options(
    idempotency_key: str | None,
    correlation_id: str | None,
    contract_type: type[Contract],
) -> dict:
    current = current_message()
    if current is not None:
        correlation_id = correlation_id or current.options.get("correlation_id")
        idempotency_key = idempotency_key or (
            f"{current_idempotency_key()}>{contract_type.__name__}"
        )
    options = {"correlation_id": correlation_id or new_id()}
    if idempotency_key:
        options["idempotency_key"] = idempotency_key
    return options


def _message(
    route: Route, payload: dict, options: dict, *, message_id: str | None = None
) -> dramatiq.Message:
    return dramatiq.Message(
        queue_name=str(route.queue),
        actor_name=route.actor,
        args=(payload,),
        kwargs={},
        options=dict(options),
        message_id=message_id or new_message_id(),
    )


def _check_size(message: dramatiq.Message, contract_type: type[Contract]) -> None:
    size = len(json.dumps(message.asdict(), separators=(",", ":")))
    if size > MAX_MESSAGE_BYTES:
        raise ContractError(
            f"a {contract_type.__name__} message of {size} bytes is over the "
            f"{MAX_MESSAGE_BYTES} byte limit; send a reference to the data instead"
        )

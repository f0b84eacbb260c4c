"""Sending contracts by route, and actors that validate what they receive."""

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker

from shared_kernel import (
    ContractError,
    ImportDataset,
    SendWelcomeEmail,
    contract_actor,
    send,
)
from shared_kernel.broker import BrokerNotInstalled, current_broker
from shared_kernel.middleware import MessageContext, current_idempotency_key


@pytest.fixture
def stub_broker():
    broker = StubBroker(middleware=[m() for m in dramatiq.middleware.default_middleware])
    broker.add_middleware(MessageContext())
    broker.emit_after("process_boot")
    dramatiq.set_broker(broker)
    yield broker
    broker.flush_all()
    broker.close()
    dramatiq.set_broker(None)


@pytest.fixture
def worker(stub_broker):
    worker = dramatiq.Worker(stub_broker, worker_timeout=100)
    worker.start()
    yield worker
    worker.stop()


def test_a_contract_is_sent_to_its_queue_and_actor_without_importing_the_context(
    stub_broker,
):
    stub_broker.declare_queue("email.welcome")

    [message] = send(SendWelcomeEmail(to="ada@example.com", name="Ada"))

    assert (message.queue_name, message.actor_name) == ("email.welcome", "send_welcome_email")
    assert message.args == ({"to": "ada@example.com", "name": "Ada"},)
    assert message.options["correlation_id"]


def test_the_producer_key_travels_as_the_idempotency_key(stub_broker):
    stub_broker.declare_queue("data.import")

    [message] = send(ImportDataset(source="/tmp/x.csv"), idempotency_key="order-42")

    assert message.options["idempotency_key"] == "order-42"


def test_an_actor_receives_the_validated_contract(stub_broker, worker):
    received = []

    @contract_actor(SendWelcomeEmail)
    def send_welcome_email(command: SendWelcomeEmail) -> None:
        received.append((command, current_idempotency_key()))

    [message] = send(SendWelcomeEmail(to="ada@example.com", name="Ada"))
    stub_broker.join("email.welcome")
    worker.join()

    assert received == [(SendWelcomeEmail(to="ada@example.com", name="Ada"),
                         message.message_id)]


def test_a_payload_breaking_its_contract_is_dead_lettered_without_retry(
    stub_broker, worker
):
    calls = []

    @contract_actor(SendWelcomeEmail, max_retries=5)
    def send_welcome_email(command: SendWelcomeEmail) -> None:
        calls.append(command)

    send_welcome_email.send({"to": "not-an-address", "name": "Ada"})
    stub_broker.join("email.welcome", fail_fast=False)
    worker.join()

    assert calls == []
    [dead] = stub_broker.dead_letters
    assert dead.options.get("retries", 0) == 0


def test_a_message_over_the_size_limit_is_refused_before_it_is_sent(stub_broker):
    stub_broker.declare_queue("data.import")
    from shared_kernel import messaging

    original = messaging.MAX_MESSAGE_BYTES
    messaging.MAX_MESSAGE_BYTES = 100
    try:
        with pytest.raises(ContractError, match="over the 100 byte limit"):
            send(ImportDataset(source="/data/" + "x" * 200 + ".csv"))
    finally:
        messaging.MAX_MESSAGE_BYTES = original
    assert stub_broker.queues["data.import"].qsize() == 0


def test_sending_without_a_broker_says_how_to_install_one():
    dramatiq.set_broker(None)
    with pytest.raises(BrokerNotInstalled, match="install_broker"):
        current_broker()


def test_bad_commands_fail_at_construction_with_the_field_named():
    with pytest.raises(ValueError, match="to"):
        SendWelcomeEmail(to="nobody", name="Ada")
    with pytest.raises(ValueError, match="unsupported URL scheme 'ftp'"):
        ImportDataset(source="ftp://example.com/a.csv")

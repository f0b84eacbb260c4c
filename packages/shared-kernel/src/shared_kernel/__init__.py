"""The shared kernel: what every bounded context of the platform stands on.

Settings, the broker, the queue names, logging, the consumer runner and the
contracts of every message that crosses a context boundary.
"""

from shared_kernel.broker import build_broker, current_broker, install_broker
from shared_kernel.contracts import (
    ROUTES,
    Attachment,
    ColumnProfile,
    Contract,
    DatasetImported,
    DatasetProfile,
    ImportDataset,
    Notify,
    RecordLog,
    ReportReady,
    Route,
    SendWelcomeEmail,
)
from shared_kernel.errors import (
    ContractError,
    PermanentError,
    PlatformError,
    SettingsError,
    TaskError,
    TransientError,
)
from shared_kernel.logs import configure_logging
from shared_kernel.messaging import contract_actor, receive, send, send_many
from shared_kernel.queues import ContextQueues, QueueNames
from shared_kernel.redis_broker import BrokerUnavailable, MessageTooLarge
from shared_kernel.runner import run_consumer
from shared_kernel.settings import RedisSettings, Settings

__version__ = "0.1.0"

__all__ = [
    # settings and process set-up
    "Settings",
    "RedisSettings",
    "configure_logging",
    "build_broker",
    "install_broker",
    "current_broker",
    "run_consumer",
    # queues and messaging
    "QueueNames",
    "ContextQueues",
    "send",
    "send_many",
    "receive",
    "contract_actor",
    "Route",
    "ROUTES",
    # contracts
    "Contract",
    "SendWelcomeEmail",
    "ImportDataset",
    "DatasetImported",
    "DatasetProfile",
    "ColumnProfile",
    "ReportReady",
    "Attachment",
    "Notify",
    "RecordLog",
    # errors
    "PlatformError",
    "SettingsError",
    "ContractError",
    "MessageTooLarge",
    "BrokerUnavailable",
    "TaskError",
    "PermanentError",
    "TransientError",
]

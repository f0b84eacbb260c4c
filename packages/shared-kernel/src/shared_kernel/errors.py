"""The exceptions of the platform, all rooted in :class:`PlatformError`."""


class PlatformError(Exception):
    """Base class for every error raised by the platform."""


class SettingsError(PlatformError):
    """Raised when an environment variable holds a value the platform cannot use."""


class ContractError(PlatformError):
    """Raised when a message does not match the contract of its type."""


class TaskError(PlatformError):
    """Base class for failures raised by a task while handling a message."""


class PermanentError(TaskError):
    """Raised when retrying cannot help: the message is dead-lettered at once."""


class TransientError(TaskError):
    """Raised when a failure may pass by itself: the message is retried."""

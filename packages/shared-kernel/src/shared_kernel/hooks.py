"""Calling middleware hooks without asking every middleware every time.

Dramatiq's broker calls each hook on every middleware, most of which inherit
the base class's empty method: with the kernel's dozen middleware, that is a
few dozen calls per message sent or handled, doing nothing. The broker below
keeps, per hook, the list of middleware that implement it.
"""

from dramatiq import Middleware
from dramatiq.middleware import MiddlewareError


class CachedHooks:
    """A broker mix-in: emits each hook only to the middleware defining it."""

    def emit_before(self, signal: str, *args, **kwargs) -> None:
        for hook in self._hooks(f"before_{signal}"):
            try:
                hook(self, *args, **kwargs)
            except MiddlewareError:
                raise
            except Exception:
                self.logger.critical(
                    "Unexpected failure in before_%s of %r.", signal, hook.__self__,
                    exc_info=True,
                )

    def emit_after(self, signal: str, *args, **kwargs) -> None:
        for hook in reversed(self._hooks(f"after_{signal}")):
            try:
                hook(self, *args, **kwargs)
            except Exception:
                self.logger.critical(
                    "Unexpected failure in after_%s of %r.", signal, hook.__self__,
                    exc_info=True,
                )

    def hooks(self, name: str) -> list:
        """Return the bound hooks ``name`` of the middleware defining it.

        A caller that calls them itself catches nothing: an error in a hook
        reaches it.
        """
        return self._hooks(name)

    def _hooks(self, name: str) -> list:
        # Middleware is only ever added, so its count tells the list is stale.
        cache = self.__dict__.setdefault("_hook_cache", {})
        key = (name, len(self.middleware))
        hooks = cache.get(key)
        if hooks is None:
            empty = getattr(Middleware, name, None)
            hooks = [
                getattr(middleware, name)
                for middleware in self.middleware
                if getattr(type(middleware), name, empty) is not empty
                and hasattr(middleware, name)
            ]
            cache[key] = hooks
        return hooks

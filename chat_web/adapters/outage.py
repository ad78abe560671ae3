"""Driver errors that mean "the service is away" become ServiceUnavailable, in one place per adapter.

Each adapter says which of its driver's errors are outages and how to name the service;
`translate_outages` applies that to every public coroutine method of its classes. Any other
error (a unique index refusing a row, a bug) passes through unchanged.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable

from chat_web.domain import ServiceUnavailable

log = logging.getLogger(__name__)


def translate_outages(is_outage: Callable[[BaseException], bool], service: Callable[[object], str]):
    """Class decorator: outages raised by the public coroutine methods become ServiceUnavailable.

    `service(instance)` names what is away ("Redis", "The database (postgresql)"); the
    user reads that name, the log gets the driver's own words.
    """

    def decorate(cls: type) -> type:
        for name, method in list(vars(cls).items()):
            if not name.startswith("_") and inspect.iscoroutinefunction(method):
                setattr(cls, name, _guarded(method, is_outage, service))
        return cls

    return decorate


def _guarded(method, is_outage, service):
    @functools.wraps(method)
    async def guarded(self, *args, **kwargs):
        try:
            return await method(self, *args, **kwargs)
        except ServiceUnavailable:
            raise
        except Exception as exc:
            if not is_outage(exc):
                raise
            name = service(self)
            log.warning("%s is unavailable: %s: %s", name, type(exc).__name__, exc)
            raise ServiceUnavailable(f"{name} cannot be reached; try again shortly.") from exc

    return guarded

"""Which driver errors count as an outage, and what the one translation point makes of them."""

from __future__ import annotations

import pytest
from pymongo.errors import AutoReconnect, DuplicateKeyError, ServerSelectionTimeoutError
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from chat_web.adapters.outage import translate_outages
from chat_web.adapters.redis_outage import is_outage as redis_outage
from chat_web.adapters.storage.mongo import is_outage as mongo_outage
from chat_web.adapters.storage.sql import is_outage as sql_outage
from chat_web.domain import NotFound, ServiceUnavailable


class _Driver(Exception):
    def __init__(self, sqlstate: str = ""):
        super().__init__("driver says no")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (OperationalError("SELECT 1", {}, _Driver()), True),  # SQLite locked, server gone
        (ConnectionRefusedError(111, "refused"), True),
        (DBAPIError("SELECT 1", {}, _Driver("57P01")), True),  # admin shutdown
        (DBAPIError("SELECT 1", {}, _Driver("57P03")), True),  # starting up / shutting down
        (DBAPIError("SELECT 1", {}, _Driver("53300")), True),  # too many connections
        (DBAPIError("SELECT 1", {}, _Driver("22003")), False),  # numeric out of range: a bug
        (IntegrityError("INSERT", {}, _Driver("23505")), False),  # a unique index decided
    ],
)
def test_sql_outages(error, outage):
    assert sql_outage(error) is outage


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (AutoReconnect("primary stepped down"), True),
        (ServerSelectionTimeoutError("no servers"), True),
        (DuplicateKeyError("E11000"), False),
    ],
)
def test_mongo_outages(error, outage):
    assert mongo_outage(error) is outage


def test_redis_outages():
    assert redis_outage(RedisConnectionError("refused")) and not redis_outage(ValueError("bug"))


@translate_outages(lambda exc: isinstance(exc, ConnectionError), lambda adapter: adapter.name)
class Adapter:
    name = "The widget store"

    async def fails_with(self, exc: Exception):
        raise exc

    async def _private(self, exc: Exception):
        raise exc


async def test_an_outage_becomes_503_naming_the_service_and_the_rest_passes():
    with pytest.raises(ServiceUnavailable, match="^The widget store cannot be reached") as caught:
        await Adapter().fails_with(ConnectionResetError("reset"))
    assert isinstance(caught.value.__cause__, ConnectionResetError)
    assert "reset" not in caught.value.message  # driver words go to the log only
    with pytest.raises(NotFound):
        await Adapter().fails_with(NotFound("no such thing"))
    with pytest.raises(ConnectionResetError):
        await Adapter()._private(ConnectionResetError("helpers are covered by their public caller"))

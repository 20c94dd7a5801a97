"""Failures that say nothing about the data in hand: the database or the broker is away, or
the process is out of a resource (connections, file descriptors). A worker waits them out
and takes the same records again; the API answers 503 with Retry-After."""
from __future__ import annotations

import asyncio

import asyncpg

from streams.kafka import BrokerUnavailable

OUTAGES = (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError,
           asyncpg.TooManyConnectionsError, BrokerUnavailable, asyncio.TimeoutError)
# SQLSTATE classes of server errors that say nothing about the records either:
# connection (08), resources (53), operator intervention (57: shutdown, cancel), and
# transaction rollbacks (40: serialisation failure, deadlock).
OUTAGE_CLASSES = ("08", "40", "53", "57")


def is_outage(exc: BaseException) -> bool:
    if isinstance(exc, OUTAGES):
        return True
    state = getattr(exc, "sqlstate", None) if isinstance(exc, asyncpg.PostgresError) else None
    return isinstance(state, str) and state[:2] in OUTAGE_CLASSES

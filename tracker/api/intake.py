"""The batch intake shared by fixes and filling records: validate each item, publish the
good ones, dead-letter the bad ones with their reason, answer 202 only after the broker
acknowledged both. A broker failure is a 503 and nothing is claimed accepted.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson
from aiohttp import web

from schemas import SchemaError, explain
from streams.fix import ItemError, valid_plate
from streams.kafka import BrokerUnavailable
from tracker.api.context import PUBLISHER, SETTINGS, TOPICS
from tracker.api.problems import Problem
from tracker.api.respond import json_bytes_response, read_json
from tracker.metrics import BROKER_FAILURES, INTAKE_ITEMS

# Turns one schema-valid item into (key, value dict) or raises ItemError.
Accept = Callable[[dict], tuple[str, dict]]
# A refused item is dead-lettered as received unless its JSON is longer than this: then
# its first bytes are (the producer's messages are at most 1 MB, and the reason is
# what matters to whoever reads the topic).
DEAD_INPUT_BYTES = 64 * 1024


@dataclass
class Sorted:
    good: list[tuple[bytes, bytes]] = field(default_factory=list)
    dead: list[tuple[bytes | None, bytes]] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)


async def read_items(request: web.Request, *, single_allowed: bool) -> list:
    data = await read_json(request)
    if single_allowed and isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise Problem(400, "the body must be a JSON array" + (" or object" if single_allowed else ""))
    limit = request.app[SETTINGS].max_batch_items
    if len(data) > limit:
        raise Problem(413, f"{len(data)} items in one request; the limit is {limit}")
    return data


def sort_items(items: list, validator, accept: Accept, source: str, received_at: int,
               dead_extra: dict | None = None) -> Sorted:
    """Good items as (key, value) messages, bad ones as dead letters with their reason;
    `dead_extra` is added to each dead letter (the JT/T 808 gateway's `frame_hex`)."""
    out = Sorted()
    for index, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise ItemError("item must be a JSON object")
            try:
                validator.validate(item)
            except SchemaError as exc:
                raise ItemError(explain(exc)[1]) from None
            key, value = accept(item)
        except ItemError as exc:
            reason = str(exc)
            out.rejected.append({"index": index, "error": reason})
            record = {"input": _as_received(item), "error": reason, "source": source, "received_at": received_at}
            if dead_extra:
                record.update(dead_extra)
            out.dead.append((plate_key(item), orjson.dumps(record)))
            continue
        out.good.append((key.encode(), orjson.dumps(value)))
    return out


def plate_key(item) -> bytes | None:
    """The dead letter's key: the item's plate when it is one (else null)."""
    plate = item.get("plate") if isinstance(item, dict) else None
    try:
        return valid_plate(plate).encode() if isinstance(plate, str) else None
    except ItemError:
        return None


def _as_received(item):
    text = orjson.dumps(item)
    if len(text) <= DEAD_INPUT_BYTES:
        return item
    return {"truncated": True, "bytes": len(text), "json_start": text[:DEAD_INPUT_BYTES].decode(errors="ignore")}


def known_plates(items: list) -> set[str]:
    """The plates of a batch that are plates (to look up in the registry)."""
    return {key.decode() for key in map(plate_key, items) if key is not None}


async def publish_sorted(publisher, topic: str, deadletter_topic: str, good: list, dead: list) -> None:
    """The good messages and the dead letters, both acknowledged (acks=all) before it
    returns, or BrokerUnavailable."""
    await asyncio.gather(publisher.publish(topic, good), publisher.publish(deadletter_topic, dead))


async def publish_and_answer(request: web.Request, kind: str, topic: str, batch: Sorted) -> web.Response:
    try:
        await publish_sorted(request.app[PUBLISHER], topic, request.app[TOPICS].deadletter, batch.good, batch.dead)
    except BrokerUnavailable as exc:
        BROKER_FAILURES.inc()
        raise Problem(503, f"nothing was accepted: {exc}", headers={"Retry-After": "5"}) from None
    INTAKE_ITEMS.labels(kind, "accepted").inc(len(batch.good))
    INTAKE_ITEMS.labels(kind, "rejected").inc(len(batch.rejected))
    return json_bytes_response({"accepted": len(batch.good), "rejected": batch.rejected}, status=202)

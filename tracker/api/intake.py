"""The HTTP side of the intake: a request's body as a list of items, and the answer once
the broker acknowledged what the shared intake (tracker.intake) sorted. A broker failure is
a 503 and nothing is claimed accepted.
"""
from __future__ import annotations

from aiohttp import web

from streams.kafka import BrokerUnavailable
from tracker.api.context import PUBLISHER, SETTINGS, TOPICS
from tracker.api.problems import Problem
from tracker.api.respond import json_bytes_response, read_json
from tracker.intake.items import Sorted
from tracker.intake.publish import publish_sorted
from tracker.metrics import BROKER_FAILURES, INTAKE_ITEMS


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


async def publish_and_answer(request: web.Request, kind: str, topic: str, batch: Sorted) -> web.Response:
    try:
        await publish_sorted(request.app[PUBLISHER], topic, request.app[TOPICS].deadletter, batch.good, batch.dead)
    except BrokerUnavailable as exc:
        BROKER_FAILURES.inc()
        raise Problem(503, f"nothing was accepted: {exc}", headers={"Retry-After": "5"}) from None
    INTAKE_ITEMS.labels(kind, "accepted").inc(len(batch.good))
    INTAKE_ITEMS.labels(kind, "rejected").inc(len(batch.rejected))
    return json_bytes_response({"accepted": len(batch.good), "rejected": batch.rejected}, status=202)

"""POST /v1/filling-records: stations report each filling; the cross-check runs downstream.

A record for an unregistered plate is accepted, not refused: filling an unknown tanker is
exactly what market supervision must hear about, so it must reach the cross-check.
"""
from __future__ import annotations

from aiohttp import web

from schemas import validator
from streams.fix import ItemError, normalise_plate, parse_time_ms
from tracker.api.context import TOPICS, requires
from tracker.api.intake import now_ms, publish_and_answer, read_items, sort_items
from tracker.auth import ADMIN, STATION, Principal

SOURCE = "http/filling-records"


@requires(STATION, ADMIN)
async def post_filling_records(request: web.Request, principal: Principal) -> web.Response:
    items = await read_items(request, single_allowed=True)
    received_at = now_ms()

    def accept(item: dict) -> tuple[str, dict]:
        if principal.station_id is not None and item["station_id"] != principal.station_id:
            raise ItemError(f"station_id {item['station_id']!r} is another station's; this token speaks for "
                            f"{principal.station_id!r}")
        record = dict(item, plate=normalise_plate(item["plate"]), filled_at=parse_time_ms(item["filled_at"], "filled_at"))
        record["received_at"] = received_at
        return record["plate"], record

    batch = sort_items(items, validator("filling_record.schema.json"), accept, SOURCE, received_at)
    return await publish_and_answer(request, "filling_record", request.app[TOPICS].filling, batch)


def setup_filling(app: web.Application) -> None:
    app.router.add_post("/v1/filling-records", post_filling_records)

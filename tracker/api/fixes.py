"""POST /v1/fixes: carriers' gateways deliver positions of their own vehicles."""
from __future__ import annotations

from aiohttp import web

from schemas import validator
from streams.fix import normalise_fix
from streams.times import now_ms
from tracker.api.context import FLEET, TOPICS, requires
from tracker.api.intake import publish_and_answer, read_items
from tracker.auth import GATEWAY, Principal
from tracker.intake.items import known_plates, sort_items

SOURCE = "http/fixes"


@requires(GATEWAY)
async def post_fixes(request: web.Request, principal: Principal) -> web.Response:
    items = await read_items(request, single_allowed=False)
    fleet = request.app[FLEET]
    await fleet.reload_if_unknown(known_plates(items))
    received_at = now_ms()

    def accept(item: dict) -> tuple[str, dict]:
        fix = normalise_fix(
            item, carrier_of=fleet.carrier_of, allowed_carrier=principal.carrier_id, now_ms=received_at, source="http"
        )
        return fix["plate"], fix

    batch = sort_items(items, validator("fix.schema.json"), accept, SOURCE, received_at)
    return await publish_and_answer(request, "fix", request.app[TOPICS].fixes, batch)


def setup_fixes(app: web.Application) -> None:
    app.router.add_post("/v1/fixes", post_fixes)

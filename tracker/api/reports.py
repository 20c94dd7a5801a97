"""GET /v1/reports/kpis: the bureaus' supervision figures for a local day or month, for one
carrier or the district; JSON, or CSV with Chinese headers for `Accept: text/csv`."""
from __future__ import annotations

from aiohttp import web

from tracker.api.context import POOL, SETTINGS, requires
from tracker.api.problems import Problem, error
from tracker.api.respond import json_bytes_response
from tracker.auth import ADMIN, AGENCY, OPERATOR, Principal
from tracker.db.kpis import counts
from tracker.reports.definitions import PeriodError, figures, period, report, to_csv


def wants_csv(request: web.Request) -> bool:
    """`Accept: text/csv` (alone or preferred over JSON by its place in the list)."""
    accepted = [part.split(";")[0].strip().lower() for part in request.headers.get("Accept", "").split(",")]
    for media in accepted:
        if media == "text/csv":
            return True
        if media in ("application/json", "application/*", "*/*"):
            return False
    return False


@requires(ADMIN, OPERATOR, AGENCY)
async def get_kpis(request: web.Request, principal: Principal) -> web.Response:
    q = request.rel_url.query
    try:
        p = period(q.get("period", ""), q.get("date", ""))
    except PeriodError as exc:
        raise Problem(400, str(exc), [error(str(exc), field="date" if "date" in str(exc) else "period")]) from None
    carrier_id = q.get("carrier_id")
    pool, settings = request.app[POOL], request.app[SETTINGS]
    if carrier_id is not None and await pool.fetchval("SELECT 1 FROM carriers WHERE id = $1", carrier_id) is None:
        raise Problem(404, f"no carrier {carrier_id!r}")
    raw = await counts(pool, p.start, p.end, carrier_id, settings.kpis)
    rep = report(p, carrier_id, figures(raw, settings.kpis, settings.rules))
    if wants_csv(request):
        safe = "".join(c for c in carrier_id or "" if c.isascii() and (c.isalnum() or c in "-_"))
        name = f"kpis-{p.label}{'-' + safe if safe else ''}.csv"
        return web.Response(text=to_csv(rep), content_type="text/csv", charset="utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return json_bytes_response(rep)


def setup_reports(app: web.Application) -> None:
    app.router.add_get("/v1/reports/kpis", get_kpis)

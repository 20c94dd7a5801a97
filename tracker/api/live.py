"""GET /v1/live: positions and violation events pushed to the safety office's map as they
happen.

One feed per API process reads hazmat.fixes.v1 and hazmat.violations.v1 from their ends,
in no consumer group (every process sees everything), from the first subscription on;
each client gets what its subscription selects. Each position carries the vehicle's
status as GET /v1/vehicles gives it (moving or stopped by the rules' own stop test, kept
per vehicle here; `offline` is a violation, announced as one). A client that reads too slowly is
disconnected with close code 1013 ("try again later"), and told why, rather than
holding the process's memory or missing messages without knowing it.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import asyncpg
import orjson
from aiohttp import WSMsgType, web

from geofence.gcj02 import points_in
from schemas import SchemaError, explain, validator
from streams.fix import valid_plate
from streams.kafka import consumer, from_now
from streams.rules.motion import Anchor, next_anchor, status
from streams.times import rfc3339
from streams.topics import Topics
from tracker.api.context import POOL, SETTINGS, requires
from tracker.api.respond import strict_loads
from tracker.auth import ADMIN, OPERATOR, Principal
from tracker.db.handling import handling_of
from tracker.settings import Settings

log = logging.getLogger(__name__)
ERROR_CHARS = 500  # an error answer never echoes a client's whole message back
# Messages waiting for one client; at a province's ~5 000 fixes/s, seconds of them for a
# client subscribed to everything.
QUEUE = 20_000
TOO_SLOW = 1013


@dataclass(frozen=True)
class Subscription:
    bbox: tuple[float, float, float, float] | None = None
    plates: frozenset[str] | None = None
    crs: str = "wgs84"

    @classmethod
    def parse(cls, message: dict) -> "Subscription":
        validator("live_subscription.schema.json").validate(message)
        wanted = message["subscribe"]
        bbox = tuple(wanted["bbox"]) if "bbox" in wanted else None
        if bbox is not None and not (bbox[0] <= bbox[2] and bbox[1] <= bbox[3]):
            raise ValueError("bbox is minLon,minLat,maxLon,maxLat with min before max")
        plates = frozenset(map(valid_plate, wanted["plates"])) if "plates" in wanted else None
        return cls(bbox, plates, wanted.get("crs", "wgs84"))

    def wants(self, plate: str, lat: float, lon: float) -> bool:
        if self.plates is not None and plate not in self.plates:
            return False
        box = self.bbox
        return box is None or (box[0] <= lon <= box[2] and box[1] <= lat <= box[3])

    def as_dict(self) -> dict:
        return {"bbox": list(self.bbox) if self.bbox else None,
                "plates": sorted(self.plates) if self.plates is not None else None, "crs": self.crs}


def position_message(fix: dict, vehicle_status: str) -> dict:
    return {"type": "position", "plate": fix["plate"], "carrier_id": fix.get("carrier_id"), "ts": rfc3339(fix["ts"]),
            "lat": fix["lat"], "lon": fix["lon"], "speed_kmh": fix["speed_kmh"], "heading_deg": fix["heading_deg"],
            "status": vehicle_status}


class Motions:
    """Each vehicle's stop anchor and newest fix time, as the rules keep them: a late fix
    (older than the newest) reports the status it had, as it changes nothing in the rules."""

    def __init__(self, cfg) -> None:
        self.cfg = cfg
        self.anchors: dict[str, Anchor | None] = {}
        self.last_ts: dict[str, int] = {}

    async def load(self, pool: asyncpg.Pool) -> None:
        # The stop is the rules' part "stop" of the state; a state stored before the parts
        # (not rewritten since: its vehicle has sent nothing) has its fields at the top.
        rows = await pool.fetch(
            """SELECT plate, (state->>'last_ts')::bigint AS last_ts, (stop->>'anchor_ts') IS NOT NULL AS stopped,
                      (stop->>'anchor_lat')::float8 AS lat, (stop->>'anchor_lon')::float8 AS lon
               FROM vehicle_state, coalesce(state->'stop', state) AS stop""")
        for r in rows:
            self.anchors.setdefault(r["plate"], (r["lat"], r["lon"]) if r["stopped"] else None)
            if r["last_ts"] is not None:
                self.last_ts.setdefault(r["plate"], r["last_ts"])

    def status(self, fix: dict) -> str:
        plate, ts = fix["plate"], fix["ts"]
        anchor = self.anchors.get(plate)
        if ts >= self.last_ts.get(plate, ts):
            anchor = self.anchors[plate] = next_anchor(anchor, fix["lat"], fix["lon"], fix["speed_kmh"], self.cfg)
            self.last_ts[plate] = ts
        return status(anchor)


def placed(message: dict, lon: float, lat: float) -> dict:
    """The message with its point moved to (lon, lat)."""
    if message["type"] == "position":
        return dict(message, lon=lon, lat=lat)
    return dict(message, violation=dict(message["violation"], lon=lon, lat=lat))


class Client:
    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.subscription: Subscription | None = None
        self._queue: asyncio.Queue[dict] = asyncio.Queue(QUEUE)
        self._sender = asyncio.create_task(self._send())
        self._closing: asyncio.Task | None = None

    def offer(self, message: dict) -> None:
        if self._closing is not None:
            return  # told already that it misses messages
        if self._queue.full():
            self.drop("too slow: reconnect and subscribe again")
            return
        self._queue.put_nowait(message)

    def drop(self, reason: str) -> None:
        """Close with 1013 and why: a client that misses messages must know it."""
        if self._closing is None:
            self._sender.cancel()
            self._closing = asyncio.create_task(self.ws.close(code=TOO_SLOW, message=reason.encode()))

    async def reply(self, message: dict) -> None:
        """Answers to the client's own messages go in line with the feed's."""
        await self._queue.put(message)

    async def _send(self) -> None:
        while True:
            await self.ws.send_str(orjson.dumps(await self._queue.get()).decode())

    async def close(self) -> None:
        self._sender.cancel()
        await asyncio.gather(self._sender, *([self._closing] if self._closing else []), return_exceptions=True)


class LiveFeed:
    def __init__(self, settings: Settings, pool: asyncpg.Pool | None = None) -> None:
        self.settings = settings
        self.pool = pool
        self.motions = Motions(settings.rules)
        self.topics = Topics(settings.topic_prefix)
        self.clients: set[Client] = set()
        self._ready: asyncio.Future | None = None
        self._task: asyncio.Task | None = None

    async def ready(self) -> None:
        """The feed reads from the topics' ends as they are now (started on first use)."""
        if self._task is None:
            self._ready = asyncio.get_running_loop().create_future()
            self._task = asyncio.create_task(self._run())
        await asyncio.shield(self._ready)

    async def _run(self) -> None:
        c = consumer(self.settings.kafka_bootstrap, [self.topics.fixes, self.topics.violations], group_id=None,
                     start="latest", fetch_max_wait_ms=self.settings.worker.fetch_wait_ms)
        try:
            await c.start()
            await from_now(c)
            if self.pool is not None:  # after from_now: no fix between the states read and the feed
                await self.motions.load(self.pool)
            self._ready.set_result(None)
            while True:
                for tp, records in (await c.getmany(timeout_ms=1000)).items():
                    handling = await self._handling(records) if tp.topic == self.topics.violations else {}
                    self._dispatch(tp.topic, records, handling)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the broker, or a message off contract: logged, and every client told
            log.exception("the live feed stopped")
            if not self._ready.done():
                self._ready.set_exception(exc)
            for client in self.clients:
                if client.subscription is not None:
                    client.drop("the live feed stopped: reconnect and subscribe again")
            self._task = None  # the next subscription starts it again
        finally:
            await c.stop()

    async def _handling(self, records: list) -> dict[str, dict]:
        """The handling of the violations a poll of the violation topic brings: the rules'
        events carry none, and every Violation the API sends carries it. One query a poll;
        a database that cannot answer leaves it out rather than stopping the feed."""
        wanted = set()
        for record in records:
            try:
                data = orjson.loads(record.value)["data"]
                if "handling" not in data:
                    wanted.add(data["violation_id"])
            except (ValueError, KeyError, TypeError):
                continue  # _dispatch tells
        if not wanted or self.pool is None:
            return {}
        try:
            return await handling_of(self.pool, sorted(wanted))
        except (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("live feed: violations sent without their handling, the database did not answer: %r", exc)
            return {}

    def _dispatch(self, topic: str, records: list, handling: dict[str, dict] | None = None) -> None:
        """A poll's messages to the clients that want them, in each client's crs (converted
        once for the poll, whoever asks)."""
        found = []  # (message, plate, lat, lon)
        for record in records:
            try:
                value = orjson.loads(record.value)
                if topic == self.topics.fixes:
                    found.append((position_message(value, self.motions.status(value)), value["plate"], value["lat"],
                                  value["lon"]))
                else:
                    violation = value["data"]
                    if "handling" not in violation and handling and violation["violation_id"] in handling:
                        violation = dict(violation, handling=handling[violation["violation_id"]])
                    found.append(({"type": "violation", "event": value["type"], "violation": violation},
                                  violation["plate"], violation["lat"], violation["lon"]))
            except (ValueError, KeyError, TypeError) as exc:  # the workers dead-letter such fixes
                log.warning("live feed: %s offset %s is off contract, not sent: %r", topic, record.offset, exc)
        clients = [c for c in self.clients if c.subscription is not None]
        if not found or not clients:
            return
        moved = [None] * len(found)
        if any(c.subscription.crs == "gcj02" for c in clients):
            points = points_in("gcj02", [f[3] for f in found], [f[2] for f in found])
            moved = [placed(f[0], lon, lat) for f, (lon, lat) in zip(found, points)]
        for (message, plate, lat, lon), in_gcj02 in zip(found, moved):
            for client in clients:
                if client.subscription.wants(plate, lat, lon):
                    client.offer(in_gcj02 if client.subscription.crs == "gcj02" else message)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


LIVE = web.AppKey("live", LiveFeed)


@requires(ADMIN, OPERATOR, token_in_query=True)
async def live(request: web.Request, principal: Principal) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    feed: LiveFeed = request.app[LIVE]
    client = Client(ws)
    feed.clients.add(client)
    try:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                await client.reply({"type": "error", "error": "send JSON text: {\"subscribe\": {...}}"})
                continue
            try:
                subscription = Subscription.parse(strict_loads(msg.data))
            except SchemaError as exc:
                await client.reply({"type": "error", "error": f"not a subscription: {explain(exc)[1]}"[:ERROR_CHARS]})
                continue
            except ValueError as exc:
                await client.reply({"type": "error", "error": f"not a subscription: {exc}"[:ERROR_CHARS]})
                continue
            try:
                await feed.ready()
            except Exception as exc:  # logged by the feed
                await client.reply({"type": "error", "error": f"the live feed cannot start: {exc!r}"})
                continue
            client.subscription = subscription
            await client.reply({"type": "subscribed", "subscription": subscription.as_dict()})
    finally:
        feed.clients.discard(client)
        await client.close()
    return ws


async def _feed(app: web.Application):
    app[LIVE] = feed = LiveFeed(app[SETTINGS], app[POOL])
    yield
    await feed.close()


def setup_live(app: web.Application) -> None:
    app.cleanup_ctx.append(_feed)
    app.router.add_get("/v1/live", live)

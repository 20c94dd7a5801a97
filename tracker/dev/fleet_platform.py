"""A carrier's monitoring platform in the simulator: one JT/T 809 link carrying the
positions of all the carrier's simulated tankers (0x1202 each round, then a heartbeat).

JT/T 809 acknowledges no position; the heartbeat's answer after a round shows the server
read the round, so its positions count as accepted (a refused one is the server's dead
letter, as for every entrance). Every other carrier's platform is 2019 and every third one
encrypts its bodies, so both layouts and the cipher are exercised.
"""
from __future__ import annotations

import hashlib
import logging
import secrets

from tracker.dev.platform import PlatformError, SubPlatform, position
from tracker.jt809.crypto import Keys

log = logging.getLogger(__name__)


class FleetPlatform:
    def __init__(self, carrier_id: str, tankers: list, number: int, address: tuple[str, int]) -> None:
        self.carrier_id, self.tankers, self.address = carrier_id, tankers, address
        self.id = f"sim-{carrier_id}"
        digest = hashlib.sha256(carrier_id.encode()).digest()
        self.user_id = int.from_bytes(digest[:4], "big")
        self.access_code = int.from_bytes(digest[4:8], "big")
        self.password = secrets.token_hex(4)  # 8 characters: new each run, the PUT replaces the old one
        self.version = "2019" if number % 2 else "2011"
        self.keys = Keys(int.from_bytes(digest[8:11], "big") + 1, int.from_bytes(digest[11:14], "big"),
                         int.from_bytes(digest[14:17], "big")) if number % 3 == 2 else None
        self.link: SubPlatform | None = None

    def account(self) -> dict:
        """The body of PUT /v1/platforms/{id}."""
        body = {"name": f"Simulated platform of {self.carrier_id}", "carrier_ids": [self.carrier_id],
                "user_id": self.user_id, "password": self.password, "access_code": self.access_code,
                "version": self.version}
        if self.keys:
            body["encrypt"] = {"m1": self.keys.m1, "ia1": self.keys.ia1, "ic1": self.keys.ic1}
        return body

    async def connect(self) -> None:
        await self.close()
        link = SubPlatform(self.user_id, self.password, self.access_code, self.version, keys=self.keys)
        await link.connect(*self.address)
        result = await link.login()
        if result != 0:
            await link.close()
            raise PlatformError(f"platform {self.id}: login refused with result {result}")
        self.link = link

    async def round(self, ts_ms: int, speeds: list[float], counts: dict[str, int]) -> None:
        """One position per tanker, then a heartbeat; a lost link is made again next round."""
        try:
            if self.link is None:
                await self.connect()
            for tanker, speed in zip(self.tankers, speeds):
                await self.link.real_time(position(tanker.plate, tanker.lat, tanker.lon, ts_ms, speed_kmh=speed,
                                                   heading_deg=round(tanker.heading_deg) % 360,
                                                   mileage_km=tanker.mileage_km))
            await self.link.heartbeat()
            counts["accepted"] += len(self.tankers)
        except (PlatformError, OSError) as exc:
            counts["unavailable"] += len(self.tankers)
            log.warning("simulated platform %s: %s (reconnects next round)", self.id, exc)
            await self.close()

    async def close(self) -> None:
        if self.link is not None:
            await self.link.close()
            self.link = None

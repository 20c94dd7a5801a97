"""The registry as the intake needs it in memory: which carrier owns which plate.

Several API processes share one database, so each re-reads the vehicles table every few
seconds; a batch naming a plate not yet seen triggers one early re-read (at most once a
second), so a vehicle registered through another process is usable at once.
"""
from __future__ import annotations

import time

import asyncpg

from tracker.db import registry


class Fleet:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._carrier_of: dict[str, str] = {}
        self._loaded_at = float("-inf")

    async def reload(self) -> None:
        self._carrier_of = await registry.carriers_by_plate(self._pool)
        self._loaded_at = time.monotonic()

    def carrier_of(self, plate: str) -> str | None:
        return self._carrier_of.get(plate)

    def age_s(self) -> float:
        return time.monotonic() - self._loaded_at

    async def reload_if_unknown(self, plates, min_age_s: float = 1.0) -> None:
        if self.age_s() >= min_age_s and any(p not in self._carrier_of for p in plates):
            await self.reload()

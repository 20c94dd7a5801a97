"""The emergency bureau's own hazard figures (`PUT /v1/hazards`): one row a UN number,
merged over the shipped ERG catalogue by whoever computes zones (incidents.catalogue)."""
from __future__ import annotations

import asyncpg


async def overrides(conn: asyncpg.Connection | asyncpg.Pool) -> dict[str, dict]:
    """UN number -> the bureau's row (a handful: read whole for every incident)."""
    return {r["un_number"]: r["row"] for r in await conn.fetch("SELECT un_number, row FROM hazard_overrides")}


async def put(pool: asyncpg.Pool, un_number: str, row: dict, by: str) -> None:
    await pool.execute(
        """INSERT INTO hazard_overrides (un_number, row, by) VALUES ($1, $2, $3)
           ON CONFLICT (un_number) DO UPDATE SET row = EXCLUDED.row, by = EXCLUDED.by, at = now()""",
        un_number, row, by)

"""The pool's timestamptz codec: epoch milliseconds or aware datetimes in, aware UTC out."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import asyncpg
import pytest

from tracker.db.pool import create_pool

pytestmark = pytest.mark.integration


async def test_timestamps_in_as_epoch_ms_or_aware_datetimes(settings):
    pool = await create_pool(settings.asyncpg_dsn)
    try:
        ms = 1_764_270_000_123
        as_text = await pool.fetchval("SELECT $1::timestamptz::text", ms)
        assert as_text == "2025-11-27 19:00:00.123+00"
        shanghai = datetime(2026, 1, 1, 12, 0, 0, 5, tzinfo=timezone(timedelta(hours=8)))
        back = await pool.fetchval("SELECT $1::timestamptz", shanghai)
        assert back == shanghai and back.tzinfo == timezone.utc
        assert await pool.fetchval("SELECT '1999-12-31 23:59:59.999999+00'::timestamptz") == datetime(
            1999, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone.utc)
        with pytest.raises(asyncpg.DataError, match="naive datetime"):
            await pool.fetchval("SELECT $1::timestamptz", datetime(2026, 1, 1))
    finally:
        await pool.close()

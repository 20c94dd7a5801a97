"""Alembic driven from code: `hazmat migrate`, `hazmat up` and the tests share this."""
from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(sqlalchemy_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url)
    return cfg


def _in_thread(fn, *args):
    """Alembic's env.py runs its own event loop, so it must not run on the caller's."""
    return asyncio.to_thread(fn, *args)


async def upgrade(sqlalchemy_url: str, revision: str = "head") -> None:
    await _in_thread(command.upgrade, alembic_config(sqlalchemy_url), revision)


async def downgrade(sqlalchemy_url: str, revision: str = "base") -> None:
    await _in_thread(command.downgrade, alembic_config(sqlalchemy_url), revision)

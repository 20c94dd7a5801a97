"""JSON Schemas of every contract object, loaded and compiled once per process.

Requests are validated with compiled fastjsonschema validators (fast enough for the
ingest hot path); the tests check the same files with the reference `jsonschema`.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

import fastjsonschema
import orjson

HERE = Path(__file__).resolve().parent
BASE_URI = "https://hazmat-tracker.invalid/schemas/"


@cache
def load(name: str) -> dict:
    return orjson.loads((HERE / name).read_bytes())


def _resolve(uri: str) -> dict:
    return load(uri.removeprefix(BASE_URI))


@cache
def validator(name: str):
    """A function that returns the item or raises fastjsonschema.JsonSchemaValueException."""
    return fastjsonschema.compile(load(name), handlers={"https": _resolve}, use_formats=True)


def explain(exc: fastjsonschema.JsonSchemaValueException) -> tuple[str | None, str]:
    """(field path, message) of a schema failure, with the field as a dotted path."""
    field = exc.name.removeprefix("data").lstrip(".") or None
    message = exc.message.replace(exc.name, field or "item", 1) if exc.name else exc.message
    return field, message

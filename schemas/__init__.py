"""JSON Schemas of every contract object, loaded and compiled once per process.

Requests are validated with jsonschema-rs (measured here: 0.7 us a fix, against 3.5 us
with fastjsonschema, on the ingest hot path); the tests check the same files and real
traffic with the reference `jsonschema` library.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

import jsonschema_rs
import orjson

HERE = Path(__file__).resolve().parent
BASE_URI = "https://hazmat-tracker.invalid/schemas/"

SchemaError = jsonschema_rs.ValidationError


@cache
def load(name: str) -> dict:
    return orjson.loads((HERE / name).read_bytes())


def _retrieve(uri: str) -> dict:
    if not uri.startswith(BASE_URI):
        raise ValueError(f"schemas refer only to {BASE_URI}*, not {uri}")
    return load(uri.removeprefix(BASE_URI))


@cache
def validator(name: str) -> jsonschema_rs.Validator:
    """`.validate(item)` raises SchemaError; `.is_valid(item)` answers quickly."""
    return jsonschema_rs.validator_for(load(name), validate_formats=True, retriever=_retrieve)


@cache
def list_validator(name: str) -> jsonschema_rs.Validator:
    """A list of items of schema `name`: one call checks a whole consumed batch, a third
    less time a fix than one call per item (bench/RESULTS.md, session 6)."""
    return jsonschema_rs.validator_for({"type": "array", "items": {"$ref": BASE_URI + name}},
                                       validate_formats=True, retriever=_retrieve)


def explain(exc: jsonschema_rs.ValidationError) -> tuple[str | None, str]:
    """(field path, message) of a schema failure, with the field as a dotted path."""
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in exc.instance_path).lstrip(".") or None
    return path, f"{path}: {exc.message}" if path else exc.message

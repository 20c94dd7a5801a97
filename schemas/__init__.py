"""JSON Schemas of every contract object, loaded and compiled once per process.

Requests are validated with jsonschema-rs (five times faster than fastjsonschema on the
ingest hot path: bench/RESULTS.md); the tests check the same files and real
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


@cache
def _pattern_words() -> dict[str, str]:
    """pattern -> what it asks for, from the shared definitions' descriptions."""
    return {d["pattern"]: d["description"] for d in load("defs.schema.json")["$defs"].values()
            if "pattern" in d and "description" in d}


# A schema failure's message quotes the value; past this length its middle is left out.
MESSAGE_MAX = 240


def explain(exc: jsonschema_rs.ValidationError) -> tuple[str | None, str]:
    """(field path, message) of a schema failure, with the field as a dotted path; a value
    that does not match a shared pattern is told what the pattern asks for, not the regex."""
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in exc.instance_path).lstrip(".") or None
    message = exc.message
    if len(message) > MESSAGE_MAX:  # the value quoted whole: a 2 MB plate came back twice, and was dead-lettered so
        message = f"{message[:80]}… ({len(message) - 200} characters left out) …{message[-120:]}"
    words = _pattern_words().get(getattr(exc.kind, "pattern", None))
    if words is not None:
        message = f"{message.split(' does not match ')[0][:60]} is not {words}"
    return path, f"{path}: {message}" if path else message


@cache
def openapi_document() -> dict:
    """openapi.json made self-contained, as tools load it (GET /openapi.json): every schema
    it refers to, and every schema those refer to, becomes a component, and each `$ref` to
    BASE_URI a local one. The schema files stay the one source."""
    bundled: dict[str, dict] = {}

    def local(node):
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str) and value.startswith(BASE_URI):
                    name, _, fragment = value.removeprefix(BASE_URI).partition("#")
                    component = name.removesuffix(".schema.json")
                    if component not in bundled:
                        bundled[component] = {}
                        schema = {k: v for k, v in load(name).items() if k not in ("$id", "$schema")}
                        bundled[component] = local(_relative(schema, component))
                    out[key] = f"#/components/schemas/{component}{fragment}"
                else:
                    out[key] = local(value)
            return out
        if isinstance(node, list):
            return [local(v) for v in node]
        return node

    document = local(load("openapi.json"))
    document["components"]["schemas"] = dict(sorted(bundled.items()))
    return document


def _relative(node, component: str):
    """A schema's own `#/...` refs point into its component once bundled."""
    if isinstance(node, dict):
        return {k: (f"{BASE_URI}{component}.schema.json{v[1:] and '#' + v[1:]}"
                    if k == "$ref" and isinstance(v, str) and v.startswith("#") else _relative(v, component))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_relative(v, component) for v in node]
    return node

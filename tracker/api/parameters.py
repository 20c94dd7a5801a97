"""Query and path parameters checked against the OpenAPI document before a handler runs
(right after the token is: `context.requires` calls `check_parameters`).

The document is the one statement of what each parameter may be (an enum, a pattern, a
length, a range), so a value a handler could choke on (a 5 000-digit time, a control
character in a path id, `limit=1e9`) is a 400 naming the parameter, whatever the
handler. Unknown parameters are refused too: a misspelt filter must not silently
return everything. Control characters are refused in every parameter, whatever its
schema says: PostgreSQL text cannot hold a NUL, and logs must not take line breaks.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import jsonschema_rs
from aiohttp import web

from schemas import BASE_URI, explain, load
from tracker.api.problems import Problem, error

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Parameter:
    name: str
    where: str  # "query" or "path"
    required: bool
    integer: bool
    check: jsonschema_rs.Validator


def _validator(schema: dict) -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(schema, validate_formats=True, retriever=lambda uri: load(uri.removeprefix(BASE_URI)))


def specification() -> dict[tuple[str, str], dict[str, Parameter]]:
    """(METHOD, path template) -> parameters by name, from schemas/openapi.json."""
    document = load("openapi.json")
    out = {}
    for path, operations in document["paths"].items():
        shared = operations.get("parameters", [])
        for method, operation in operations.items():
            if method == "parameters":
                continue
            params = {}
            for p in [*shared, *operation.get("parameters", [])]:
                params[p["name"]] = Parameter(p["name"], p["in"], p.get("required", False),
                                              p["schema"].get("type") == "integer", _validator(p["schema"]))
            out[(method.upper(), path)] = params
    return out


def _value(p: Parameter, raw: str):
    if p.integer:
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 15):
            raise Problem(400, f"{p.name} must be a whole number", [error("a whole number", field=p.name)])
        return int(raw)
    return raw


def check(params: dict[str, Parameter], request: web.Request) -> None:
    query = request.rel_url.query
    for name in query:
        p = params.get(name)
        if p is None or p.where != "query":
            known = sorted(n for n, q in params.items() if q.where == "query")
            raise Problem(400, f"unknown parameter {name[:40]!r}; known: {', '.join(known) or 'none'}",
                          [error("unknown parameter", field=name[:40])])
        if len(query.getall(name)) > 1:
            raise Problem(400, f"{name} is given more than once", [error("given more than once", field=name)])
    for p in params.values():
        raw = query.get(p.name) if p.where == "query" else request.match_info.get(p.name)
        if raw is None:
            if p.required:
                raise Problem(400, f"{p.name} is required", [error("required", field=p.name)])
            continue
        if _CONTROL.search(raw):
            raise Problem(400, f"{p.name} must not contain control characters",
                          [error("control characters", field=p.name)])
        try:
            p.check.validate(_value(p, raw))
        except jsonschema_rs.ValidationError as exc:
            raise Problem(400, f"{p.name} is out of bounds: {explain(exc)[1][:200]}",
                          [error(explain(exc)[1][:200], field=p.name)]) from None


PARAMETERS = web.AppKey("parameters", dict)


def check_parameters(request: web.Request) -> None:
    resource = request.match_info.route.resource
    params = request.app[PARAMETERS].get((request.method, resource.canonical)) if resource is not None else None
    if params is not None:
        check(params, request)


def setup_parameters(app: web.Application) -> None:
    app[PARAMETERS] = specification()

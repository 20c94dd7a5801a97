"""Schema validation of single request objects: 422 with the offending field."""
from __future__ import annotations

from schemas import SchemaError, explain, validator
from tracker.api.problems import Problem, error


def check(schema_name: str, data: dict, what: str) -> dict:
    try:
        validator(schema_name).validate(data)
        return data
    except SchemaError as exc:
        field, message = explain(exc)
        raise Problem(422, f"the {what} does not match its schema", [error(message, field=field)]) from None

"""Schema validation of single request objects: 422 with the offending field."""
from __future__ import annotations

import fastjsonschema

from schemas import explain, validator
from tracker.api.problems import Problem, error


def check(schema_name: str, data: dict, what: str) -> dict:
    try:
        return validator(schema_name)(data)
    except fastjsonschema.JsonSchemaValueException as exc:
        field, message = explain(exc)
        raise Problem(422, f"the {what} does not match its schema", [error(message, field=field)]) from None

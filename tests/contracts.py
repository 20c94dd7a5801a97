"""Validation of real traffic against schemas/ with the reference `jsonschema` library."""
from __future__ import annotations

from functools import cache

import jsonschema
from referencing import Registry, Resource

from schemas import HERE, load


@cache
def registry() -> Registry:
    resources = []
    for path in sorted(HERE.glob("*.schema.json")):
        schema = load(path.name)
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


def validate(schema_name: str, instance) -> None:
    schema = load(schema_name)
    validator = jsonschema.Draft202012Validator(schema, registry=registry(),
                                                format_checker=jsonschema.FormatChecker())
    validator.validate(instance)

"""The schemas themselves: valid 2020-12 documents, and the runtime validator agrees with
the reference one on examples from docs/api.md and docs/topics.md."""
from __future__ import annotations

import re

import jsonschema
import orjson
import pytest

from schemas import HERE, load, validator
from streams import vocabulary
from streams.times import now_ms, rfc3339
from tests.contracts import validate

SCHEMAS = sorted(p.name for p in HERE.glob("*.schema.json"))


@pytest.mark.parametrize("name", SCHEMAS)
def test_schema_is_valid_2020_12(name):
    jsonschema.Draft202012Validator.check_schema(load(name))
    assert load(name)["$id"].endswith(name)


EXAMPLES = [
    ("fix.schema.json", {"plate": "浙B12345", "ts": rfc3339(now_ms()), "lat": 29.9, "lon": 121.8,
                         "speed_kmh": 0, "heading_deg": 0}, True),
    ("fix.schema.json", {"plate": "浙B12345", "ts": 1, "lat": 29.9, "lon": 121.8, "speed_kmh": 0,
                         "heading_deg": 360}, False),
    ("fix.schema.json", {"plate": "浙B12345", "ts": 1.5, "lat": 29.9, "lon": 121.8, "speed_kmh": 0,
                         "heading_deg": 1}, False),
    ("vehicle.schema.json", {"plate": "浙B1", "carrier_id": "C", "tank_capacity_kg": 1, "hazard_classes": ["2.1"],
                             "permit_valid_until": "2027-01-01", "tank_inspection_valid_until": "2027-02-30"}, False),
    ("violation_event.schema.json", {
        "specversion": "1.0", "id": "e1", "source": "hazmat/rules", "type": "hazmat.violation.opened",
        "time": rfc3339(now_ms()), "subject": "浙B1", "datacontenttype": "application/json",
        "data": {"violation_id": "v1", "kind": "speeding", "plate": "浙B1", "carrier_id": "C", "status": "open",
                 "started_at": rfc3339(now_ms()), "ended_at": None, "lat": 29.9, "lon": 121.8,
                 "geofence_id": None, "waybill_id": None, "severity": "medium", "agencies": ["police"],
                 "details": {"max_speed_kmh": 72, "limit_kmh": 60}}}, True),
]


@pytest.mark.parametrize("name, instance, ok", EXAMPLES)
def test_runtime_and_reference_validators_agree(name, instance, ok):
    try:
        validate(name, instance)
        reference = True
    except jsonschema.ValidationError:
        reference = False
    runtime = validator(name).is_valid(instance)
    assert reference == runtime == ok


def test_openapi_document_refers_to_existing_schemas():
    doc = load("openapi.json")
    assert doc["openapi"].startswith("3.1")
    refs = set()

    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node and node["$ref"].endswith(".schema.json"):
                refs.add(node["$ref"].rsplit("/", 1)[-1])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    assert refs and refs <= set(SCHEMAS)


# Every schema a client or a foreign producer can send (bodies and topic messages).
INPUT_SCHEMAS = ["fix.schema.json", "normalised_fix.schema.json", "filling_record.schema.json",
                 "normalised_filling_record.schema.json", "waybill.schema.json", "registry.schema.json",
                 "token_request.schema.json", "geofence_feature.schema.json", "live_subscription.schema.json",
                 "acknowledgement.schema.json", "resolution.schema.json", "site_feature.schema.json",
                 "hazard.schema.json", "incident_request.schema.json", "incident_patch.schema.json"]


def _unbounded(node, where: str, seen: set[str]) -> list[str]:
    """Places where a string, number, array or object of an input schema has no bound."""
    from schemas import BASE_URI, load
    if isinstance(node, bool) or not isinstance(node, dict):
        return []
    if "$ref" in node:
        ref = node["$ref"]
        target, _, pointer = ref.partition("#")
        if ref in seen:
            return []
        seen = seen | {ref}
        doc = load(target.removeprefix(BASE_URI)) if target else None
        if doc is None:
            return []  # local refs are walked where they are defined
        for part in filter(None, pointer.split("/")):
            doc = doc[part]
        return _unbounded(doc, f"{where}->{ref}", seen)
    problems = []
    kinds = node.get("type")
    kinds = [kinds] if isinstance(kinds, str) else kinds or []
    if "string" in kinds and "enum" not in node and "const" not in node:
        if "maxLength" not in node or not ("pattern" in node or "format" in node):
            problems.append(f"{where}: string without maxLength and pattern/format")
    for numeric in ("number", "integer"):
        if numeric in kinds and "enum" not in node and not (
                ("minimum" in node or "exclusiveMinimum" in node) and ("maximum" in node or "exclusiveMaximum" in node)):
            problems.append(f"{where}: {numeric} without a range")
    if "array" in kinds and "maxItems" not in node and "prefixItems" not in node:
        problems.append(f"{where}: array without maxItems")
    if "object" in kinds and node.get("additionalProperties") is not False:
        if "maxProperties" not in node:
            problems.append(f"{where}: object open to any number of properties")
        if "propertyNames" not in node and "properties" in node:
            problems.append(f"{where}: object open to properties of any name")  # NUL in a key: jsonb refuses it
        problems += _unbounded(node.get("propertyNames"), f"{where}.propertyNames", seen)
    for key in ("properties", "$defs", "patternProperties"):
        for name, sub in node.get(key, {}).items():
            problems += _unbounded(sub, f"{where}.{name}", seen)
    for key in ("items", "additionalProperties", "not", "if", "then", "else", "contains"):
        problems += _unbounded(node.get(key), f"{where}.{key}", seen)
    for key in ("allOf", "anyOf", "oneOf", "prefixItems"):
        for i, sub in enumerate(node.get(key, [])):
            problems += _unbounded(sub, f"{where}.{key}[{i}]", seen)
    return problems


@pytest.mark.parametrize("name", INPUT_SCHEMAS)
def test_every_input_schema_bounds_every_value(name):
    """The rule of issue 13: one layer bounds every string, number, time and list of every
    entrance before anything else touches it."""
    from schemas import load
    assert _unbounded(load(name), name, set()) == []


def test_the_bound_check_finds_what_is_unbounded():
    loose = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "array", "items": {"type": "number"}}}}
    assert len(_unbounded(loose, "loose", set())) == 5  # the object (count, names), the string, the array, its numbers
    assert _unbounded({"$ref": "https://hazmat-tracker.invalid/schemas/defs.schema.json#/$defs/plate"}, "p", set()) == []


def test_the_served_openapi_document_is_valid_and_self_contained():
    """Tools (Schemathesis, client generators) load GET /openapi.json: it must validate as
    OpenAPI 3.1 and refer to nothing outside itself."""
    from openapi_spec_validator import validate as validate_openapi

    from schemas import openapi_document
    document = openapi_document()
    validate_openapi(document)
    refs = re.findall(r'"\$ref":"([^"]*)"', orjson.dumps(document).decode())
    assert refs and all(ref.startswith("#/") for ref in refs), [r for r in refs if not r.startswith("#/")]


def _enum(schema: dict, path: list[str]) -> list:
    for key in path:
        schema = schema[key]
    return schema["enum"]


@pytest.mark.parametrize("schema, path, name", [
    ("resolution.schema.json", ["properties", "disposition"], "DISPOSITIONS"),
])
def test_schemas_spell_the_vocabularies(schema, path, name):
    """One place for each vocabulary (streams/vocabulary.py): the schemas say the same."""
    assert tuple(_enum(load(schema), path)) == getattr(vocabulary, name)


def test_a_huge_value_is_not_quoted_whole_in_the_reason():
    """A refusal's reason goes back to the sender and into the dead letter beside the item:
    the value it quotes is cut in its middle, the reason itself kept."""
    from schemas import MESSAGE_MAX, explain, validator

    valid = validator("fix.schema.json")
    fix = {"plate": "A" * 2_500_000, "ts": rfc3339(now_ms()), "lat": 29.9, "lon": 121.8}
    error = next(e for e in valid.iter_errors(fix) if list(e.instance_path) == ["plate"])
    field, reason = explain(error)
    assert field == "plate" and len(reason) < MESSAGE_MAX + 60 and "characters left out" in reason
    assert reason.startswith('plate: "AAAA') and reason.endswith(error.message[-40:])

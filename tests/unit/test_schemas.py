"""The schemas themselves: valid 2020-12 documents, and the runtime validator agrees with
the reference one on examples from CONTRACTS.md."""
from __future__ import annotations

import jsonschema
import pytest

from schemas import HERE, load, validator
from tests.contracts import validate

SCHEMAS = sorted(p.name for p in HERE.glob("*.schema.json"))


@pytest.mark.parametrize("name", SCHEMAS)
def test_schema_is_valid_2020_12(name):
    jsonschema.Draft202012Validator.check_schema(load(name))
    assert load(name)["$id"].endswith(name)


EXAMPLES = [
    ("fix.schema.json", {"plate": "浙B12345", "ts": "2026-11-28T08:00:00+08:00", "lat": 29.9, "lon": 121.8,
                         "speed_kmh": 0, "heading_deg": 0}, True),
    ("fix.schema.json", {"plate": "浙B12345", "ts": 1, "lat": 29.9, "lon": 121.8, "speed_kmh": 0,
                         "heading_deg": 360}, False),
    ("fix.schema.json", {"plate": "浙B12345", "ts": 1.5, "lat": 29.9, "lon": 121.8, "speed_kmh": 0,
                         "heading_deg": 1}, False),
    ("vehicle.schema.json", {"plate": "浙B1", "carrier_id": "C", "tank_capacity_kg": 1, "hazard_classes": ["2.1"],
                             "permit_valid_until": "2027-01-01", "tank_inspection_valid_until": "2027-02-30"}, False),
    ("violation_event.schema.json", {
        "specversion": "1.0", "id": "e1", "source": "hazmat/rules", "type": "hazmat.violation.opened",
        "time": "2026-11-28T00:00:00Z", "subject": "浙B1", "datacontenttype": "application/json",
        "data": {"violation_id": "v1", "kind": "speeding", "plate": "浙B1", "carrier_id": "C", "status": "open",
                 "started_at": "2026-11-28T00:00:00Z", "ended_at": None, "lat": 29.9, "lon": 121.8,
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

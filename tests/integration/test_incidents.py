"""The incident desk against the real PostGIS and broker (docs/incidents.md): sites,
the bureau's hazard figures, incidents with their zones and lists, events and the live rule."""
from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.integration


def _tag() -> str:
    return uuid.uuid4().hex[:8]


def site(kind: str, name: str, lon: float, lat: float, **props) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"kind": kind, "name": name, **props}}


async def test_sites_are_put_listed_by_kind_and_box_and_deleted(api):
    tag = _tag()
    school = site("school", "测试学校", 121.80, 29.90, people=800, phone="0574-86000000")
    status, stored = await api.json("PUT", f"/v1/sites/s-{tag}", api.admin_token, json=school)
    assert status == 201 and stored["id"] == f"s-{tag}" and stored["properties"]["people"] == 800
    grounds = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[
        [121.81, 29.90], [121.812, 29.90], [121.812, 29.902], [121.81, 29.902], [121.81, 29.90]]]},
        "properties": {"kind": "hospital", "name": "测试医院"}}
    await api.json("PUT", f"/v1/sites/h-{tag}", api.admin_token, expect=201, json=grounds)
    await api.json("PUT", f"/v1/sites/h-{tag}", api.admin_token, expect=200, json=grounds)
    _, listed = await api.json("GET", "/v1/sites?kind=school&bbox=121.79,29.89,121.81,29.91", api.admin_token,
                               expect=200)
    ids = {f["id"] for f in listed["features"]}
    assert f"s-{tag}" in ids and f"h-{tag}" not in ids
    _, moved = await api.json("GET", "/v1/sites?kind=hospital&crs=gcj02", api.admin_token, expect=200)
    ring = next(f for f in moved["features"] if f["id"] == f"h-{tag}")["geometry"]["coordinates"][0]
    assert ring[0] != [121.81, 29.90]  # shifted for Chinese basemaps
    await api.json("DELETE", f"/v1/sites/s-{tag}", api.admin_token, expect=204)
    await api.json("DELETE", f"/v1/sites/s-{tag}", api.admin_token, expect=404)


@pytest.mark.parametrize("body, status", [
    ({"type": "Feature", "geometry": {"type": "Point", "coordinates": [121.8, 29.9]},
      "properties": {"kind": "castle", "name": "x"}}, 422),
    ({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[121.8, 29.9], [121.9, 29.9]]},
      "properties": {"kind": "school", "name": "x"}}, 422),
    ({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[121.8, 29.9], [121.9, 29.9], [121.8, 29.95]]]},
      "properties": {"kind": "school", "name": "x"}}, 422),  # ring not closed
    ({"type": "Feature", "geometry": {"type": "Point", "coordinates": [121.8, 29.9]},
      "properties": {"kind": "school", "name": "x", "people": -1}}, 422),
])
async def test_bad_sites_are_refused(api, body, status):
    await api.json("PUT", f"/v1/sites/bad-{_tag()}", api.admin_token, expect=status, json=body)


async def test_hazards_are_read_and_the_bureau_overrides_them(api):
    status, chlorine = await api.json("GET", "/v1/hazards/UN1017", api.admin_token, expect=200)
    assert chlorine["name_en"] == "Chlorine" and chlorine["tih"] and chlorine["protective_m"]["large"]["night"] == 6400
    await api.json("GET", "/v1/hazards/9999", api.admin_token, expect=404)
    agency = await api.token("agency", agency="police")
    await api.json("GET", "/v1/hazards/1017", agency, expect=200)
    own = {**chlorine, "un_number": "1791", "name_zh": "次氯酸钠溶液", "name_en": "Hypochlorite solution",
           "class": "8", "guide": "154", "tih": False, "isolation_m": 50, "bleve": False,
           "protective_m": {"small": {"day": 50, "night": 50}, "large": {"day": 100, "night": 100}},
           "fire_isolation_m": 800, "source": "北仑区应急管理局 (test)"}
    _, stored = await api.json("PUT", "/v1/hazards/1791", api.admin_token, expect=200, json=own)
    assert stored == own
    _, read = await api.json("GET", "/v1/hazards/1791", api.admin_token, expect=200)
    assert read["source"] == "北仑区应急管理局 (test)"
    await api.json("PUT", "/v1/hazards/1792", api.admin_token, expect=422, json=own)  # path and body differ
    await api.json("PUT", "/v1/hazards/1791", api.admin_token, expect=422, json={**own, "isolation_m": 0})
    operator = await api.token("operator")
    await api.json("PUT", "/v1/hazards/1791", operator, expect=403, json=own)

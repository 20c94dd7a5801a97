"""The cheap distance bound the rules use to skip trigonometry never says "within" wrongly."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from geofence.metric import haversine_m, surely_within_m

LAT = st.floats(min_value=-80, max_value=80)
LON = st.floats(min_value=-179, max_value=179)
OFFSET = st.floats(min_value=-0.02, max_value=0.02)  # up to ~2 km: the thresholds' scale


@settings(max_examples=2000)
@given(LAT, LON, OFFSET, OFFSET, st.sampled_from([50.0, 100.0, 1000.0]))
def test_surely_within_implies_within(lat, lon, dlat, dlon, metres):
    if surely_within_m(lat, lon, lat + dlat, lon + dlon, metres):
        assert haversine_m(lat, lon, lat + dlat, lon + dlon) < metres


def test_the_bound_is_tight_enough_to_matter():
    # 600 m north-east near Ningbo: within 1 km, and the bound sees it
    assert surely_within_m(29.9, 121.8, 29.9038, 121.8044, 1000.0)
    assert not surely_within_m(29.9, 121.8, 29.9, 121.8110, 1000.0)  # ~1.06 km east: must be measured

"""The retention configs topics are created with: a broker deletes whole closed segments
only, so segments must roll well within the retention for it to act."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from streams.topics import MIN_SEGMENT_BYTES, retention_configs


def test_a_week_by_time_alone():
    assert retention_configs(168) == {
        "cleanup.policy": "delete", "retention.ms": str(168 * 3_600_000), "segment.ms": "3600000",
        "retention.bytes": "-1", "segment.bytes": str(64 << 20)}


@given(hours=st.integers(1, 87_600), partition_mb=st.one_of(st.just(0), st.integers(4, 1 << 30)))
def test_segments_roll_within_the_retention(hours, partition_mb):
    c = {k: int(v) for k, v in retention_configs(hours, partition_mb).items() if k != "cleanup.policy"}
    assert c["retention.ms"] == hours * 3_600_000
    assert 0 < c["segment.ms"] <= min(3_600_000, c["retention.ms"] // 4)
    assert c["segment.bytes"] >= MIN_SEGMENT_BYTES
    if partition_mb:
        assert c["retention.bytes"] == partition_mb << 20
        assert c["segment.bytes"] <= c["retention.bytes"] // 4
    else:
        assert c["retention.bytes"] == -1

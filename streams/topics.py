"""Topic names (docs/topics.md), derived from HAZMAT_TOPIC_PREFIX."""
from __future__ import annotations

from dataclasses import dataclass

from streams.vocabulary import AGENCIES


@dataclass(frozen=True)
class Topics:
    prefix: str = "hazmat."

    @property
    def fixes(self) -> str:
        return f"{self.prefix}fixes.v1"

    @property
    def filling(self) -> str:
        return f"{self.prefix}filling.v1"

    @property
    def plate_reads(self) -> str:
        return f"{self.prefix}plate_reads.v1"

    @property
    def violations(self) -> str:
        return f"{self.prefix}violations.v1"

    @property
    def deadletter(self) -> str:
        return f"{self.prefix}deadletter.v1"

    @property
    def incidents(self) -> str:
        return f"{self.prefix}incidents.v1"

    def agency(self, agency: str) -> str:
        return f"{self.prefix}violations.{agency}.v1"

    def all(self) -> list[str]:
        return [self.fixes, self.filling, self.plate_reads, self.violations, self.deadletter, self.incidents] + [
            self.agency(a) for a in AGENCIES]


HOUR_MS = 3_600_000
SEGMENT_BYTES = 64 << 20
MIN_SEGMENT_BYTES = 1 << 20  # Apache Kafka 4 refuses smaller segments


def retention_configs(hours: int, partition_mb: int = 0) -> dict[str, str]:
    """The configs every topic is created with, so the broker drops old records by itself
    (docs/topics.md, retention). A broker deletes whole closed segments only: segments roll
    at least hourly (or at a quarter of a shorter retention) and, with a size bound, at a
    quarter of it, so a partition holds at most about retention + one segment."""
    retention_ms = hours * HOUR_MS
    configs = {"cleanup.policy": "delete", "retention.ms": str(retention_ms),
               "segment.ms": str(min(HOUR_MS, retention_ms // 4)), "retention.bytes": "-1",
               "segment.bytes": str(SEGMENT_BYTES)}
    if partition_mb:
        retention_bytes = partition_mb << 20
        configs["retention.bytes"] = str(retention_bytes)
        configs["segment.bytes"] = str(max(MIN_SEGMENT_BYTES, min(SEGMENT_BYTES, retention_bytes // 4)))
    return configs

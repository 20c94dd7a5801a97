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

"""What every entrance does with a batch of items: each checked against its schema and
turned into a message by the entrance's own `accept`, or refused with its reason and kept
as a dead letter. Pure: no I/O, so HTTP, JT/T 808 and the entrances to come sort alike.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import orjson

from schemas import SchemaError, explain
from streams.fix import ItemError, valid_plate

# Turns one schema-valid item into (key, value dict) or raises ItemError.
Accept = Callable[[dict], tuple[str, dict]]
# A refused item is dead-lettered as received unless its JSON is longer than this: then
# its first bytes are (the producer's messages are at most 1 MB, and the reason is
# what matters to whoever reads the topic).
DEAD_INPUT_BYTES = 64 * 1024


@dataclass
class Sorted:
    good: list[tuple[bytes, bytes]] = field(default_factory=list)
    dead: list[tuple[bytes | None, bytes]] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)


def sort_items(items: list, validator, accept: Accept, source: str, received_at: int,
               dead_extra: dict | None = None) -> Sorted:
    """Good items as (key, value) messages, bad ones as dead letters with their reason;
    `dead_extra` is added to each dead letter (the JT/T 808 gateway's `frame_hex`)."""
    out = Sorted()
    for index, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise ItemError("item must be a JSON object")
            try:
                validator.validate(item)
            except SchemaError as exc:
                raise ItemError(explain(exc)[1]) from None
            key, value = accept(item)
        except ItemError as exc:
            reason = str(exc)
            out.rejected.append({"index": index, "error": reason})
            record = {"input": _as_received(item), "error": reason, "source": source, "received_at": received_at}
            if dead_extra:
                record.update(dead_extra)
            out.dead.append((plate_key(item), orjson.dumps(record)))
            continue
        out.good.append((key.encode(), orjson.dumps(value)))
    return out


def plate_key(item) -> bytes | None:
    """The dead letter's key: the item's plate when it is one (else null)."""
    plate = item.get("plate") if isinstance(item, dict) else None
    try:
        return valid_plate(plate).encode() if isinstance(plate, str) else None
    except ItemError:
        return None


def _as_received(item):
    text = orjson.dumps(item)
    if len(text) <= DEAD_INPUT_BYTES:
        return item
    return {"truncated": True, "bytes": len(text), "json_start": text[:DEAD_INPUT_BYTES].decode(errors="ignore")}


def known_plates(items: list) -> set[str]:
    """The plates of a batch that are plates (to look up in the registry)."""
    return {key.decode() for key in map(plate_key, items) if key is not None}

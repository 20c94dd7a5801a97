"""The one exception the JT/T 808 codec raises for bad input.

Everything a terminal can send, however broken, ends in either a decoded value or a
``DecodeError``; the gateway relies on that to answer 0x8001 result 2, dead-letter the
frame and keep the connection open instead of crashing on an IndexError.

Reasons (``DecodeError.reason``), a settled vocabulary for metrics labels:

- framing: ``empty``, ``unframed`` (not 7E ... 7E), ``unescaped_delimiter`` (a raw 7E
  inside), ``bad_escape`` (7D followed by anything but 01/02), ``truncated`` (shorter
  than the header and checksum need), ``bad_checksum``, ``length_field_mismatch``,
  ``bad_bcd`` (a phone nibble above 9), ``bad_subpackage`` (total 0, index 0 or above
  total), ``too_long`` (a reassembled message over the reassembler's byte budget);
- message bodies: ``bad_body_length`` (a body the message layout cannot fill),
  ``unexpected_body`` (heartbeat/logout with bytes), ``bad_time`` (BCD time that is not
  a date), ``bad_item_length`` (a standard additional item of the wrong size),
  ``truncated_item``, ``batch_count_mismatch``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tracker.jt808.header import Header


class DecodeError(Exception):
    """Input that is not a valid JT/T 808 frame or message.

    ``header`` is the parsed header when it could be read (the gateway then answers the
    terminal with 0x8001 result 2), else None (the frame is only dead-lettered).
    """

    def __init__(self, reason: str, detail: str, header: Header | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.header = header

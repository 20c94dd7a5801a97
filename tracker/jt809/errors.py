"""The one exception the JT/T 809 codec raises for bad input.

Whatever a peer platform sends, however broken, ends in a decoded value or a
``CodecError``; the TCP server and the upstream client rely on that to dead-letter the
frame (with its hex) and keep the link open, instead of dying on an IndexError.

Reasons (``CodecError.reason``), a settled vocabulary for metrics labels:

- framing: ``empty``, ``unframed`` (not 5B ... 5D), ``unescaped_delimiter`` (a raw 5B
  or 5D inside), ``bad_escape`` (5A or 5E followed by anything but 01/02),
  ``truncated`` (shorter than the header and CRC need), ``length_field_mismatch``
  (MSG_LENGTH is not the frame's unescaped length), ``bad_crc``,
  ``bad_encrypt_flag`` (neither 0 nor 1), ``no_keys`` (an encrypted body and no
  M1/IA1/IC1 for this platform), ``unknown_version`` (a login whose length fits
  neither the 2011 nor the 2019 layout);
- message bodies: ``bad_body_length`` (a body the layout cannot fill),
  ``unexpected_body`` (heartbeat/logout answer with bytes), ``bad_sub_type`` (a 0x1200
  sub-type the decoder called was not written for), ``bad_count`` (a back-fill count
  that does not match its positions), ``bad_time`` (a date that is no calendar date),
  ``bad_gnss`` (a 2019 position whose embedded JT/T 808 0x0200 body is refused; the
  808 reason is in the detail).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tracker.jt809.header import Header


class CodecError(Exception):
    """Input that is not a valid JT/T 809 frame or message.

    ``header`` is the parsed header when it could be read (the link can then log the
    message id and serial of what it dead-letters), else None.
    """

    def __init__(self, reason: str, detail: str, header: Header | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.header = header

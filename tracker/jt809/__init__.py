"""JT/T 809 (2011 and 2019) codec for platform-to-platform links: bytes in, values out,
and back; no I/O, no clock, no settings.

framing: stream splitting, escaping, CRC; header: the two header layouts; crypto: the
body cipher; codec: one frame <-> Frame; messages: login, logout, heartbeats of both
links; vehicle: the 0x1200 envelope and 0x1201 registration; positions: 0x1202 and
0x1203 as Position values; alarms: 0x1402; fixes: a Position as a Fix item (in
WGS-84) for the shared intake. The TCP server (superior platform role) and the
upstream client (sub-platform role) are the I/O around it; both hold the link's
version and the peer's keys and pass them in.
"""
from tracker.jt809.codec import Frame, decode, encode, login_version
from tracker.jt809.crypto import Keys
from tracker.jt809.errors import CodecError
from tracker.jt809.framing import FrameReader

__all__ = ["CodecError", "Frame", "FrameReader", "Keys", "decode", "encode", "login_version"]

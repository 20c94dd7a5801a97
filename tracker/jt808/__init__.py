"""The JT/T 808 entrance: terminals' TCP connections (server, sessions, handlers) around a
pure codec (2011/2013/2019; bytes in, messages out, and back; no I/O).

Codec: framing (stream splitting, escaping, checksum), header (the two layouts), codec
(one frame <-> Frame, with the device quirks it tolerates), messages and location
(bodies), subpackages (reassembly). The gateway: server (connections, limits), sessions
(what a connection may do next), handlers (each message's effect, through tracker.intake).
"""
from tracker.jt808.codec import Frame, decode, encode, phone_key
from tracker.jt808.errors import DecodeError
from tracker.jt808.framing import FrameReader, FramingProblem

__all__ = ["DecodeError", "Frame", "FrameReader", "FramingProblem", "decode", "encode", "phone_key"]

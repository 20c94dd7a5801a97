"""JT/T 808 (2011/2013/2019) codec: bytes in, messages out, and back; no I/O.

framing: stream splitting, escaping, checksum; header: the two header layouts; codec:
one frame <-> Frame (with the device quirks it tolerates); messages, location:
message bodies; subpackages: reassembly of split messages. The TCP gateway is the
only I/O around it.
"""
from tracker.jt808.codec import Frame, decode, encode, phone_key
from tracker.jt808.errors import DecodeError
from tracker.jt808.framing import FrameReader, FramingProblem

__all__ = ["DecodeError", "Frame", "FrameReader", "FramingProblem", "decode", "encode", "phone_key"]

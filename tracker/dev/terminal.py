"""A JT/T 808 terminal for the simulator, the tests and the benchmark: one TCP connection
that registers, authenticates and reports as a vehicle's terminal does, in 2013 or 2019
framing, and waits for the platform's answer to each message.

The bodies a terminal sends (0x0100, 0x0102) are built here; the codec is the project's
(`tracker.jt808`), so a test that passes shows the gateway and the codec agree.
"""
from __future__ import annotations

import asyncio
import struct

from tracker.jt808.codec import Frame, decode, encode
from tracker.jt808.framing import FrameReader
from tracker.jt808.location import MILEAGE, POSITIONED, SATELLITES, Location, encode_batch, encode_location
from tracker.jt808.messages import (
    AUTHENTICATE,
    BATCH,
    HEARTBEAT,
    LOCATION,
    LOGOUT,
    OK,
    PLATFORM_RESPONSE,
    REGISTER,
    REGISTER_RESPONSE,
    TERMINAL_RESPONSE,
    TEXT_MESSAGE,
    decode_general_response,
    decode_text_message,
    encode_general_response,
)
from tracker.jt808.safety import SafetyAlarm, encode_safety

WIDTHS = {"2013": (5, 20, 7), "2019": (11, 30, 30)}
BLUE = 1  # plate colour of an ordinary plate; 0 means "no plate" (then the VIN is sent)


def _field(text: str, width: int) -> bytes:
    return text.encode("gbk")[:width].ljust(width, b"\x00")


def register_body(version: str, plate: str, terminal_id: str = "T0001", colour: int = BLUE) -> bytes:
    maker, model, tid = WIDTHS[version]
    return (struct.pack(">HH", 33, 206) + _field("HZMT", maker) + _field("SIM-808", model) + _field(terminal_id, tid)
            + bytes((colour,)) + plate.encode("gbk"))


def auth_body(version: str, code: str) -> bytes:
    if version == "2013":
        return code.encode("gbk")
    raw = code.encode("gbk")
    return bytes((len(raw),)) + raw + _field("860000000000001", 15) + _field("sim-1.0", 20)


def safety_item(lat: float, lon: float, *, item_id: int = 0x65, type_code: int = 1, level: int = 2,
                speed_kmh: int = 60, alarm_id: int = 1) -> bytes:
    """A 苏标 active-safety item (0x64 ADAS, 0x65 DSM; DSM type 1 is fatigue) as a terminal
    reports it, flag 1 (the alarm begins)."""
    return encode_safety(SafetyAlarm(item_id, alarm_id, 1, type_code, level, bytes(5), speed_kmh, 5,
                                     round(abs(lat) * 1e6), round(abs(lon) * 1e6), bytes(6), 1, bytes(16)))


def location(lat: float, lon: float, ts_ms: int, *, speed_kmh: float = 0.0, heading_deg: int = 0, alt_m: int = 5,
             positioned: bool = True, alarm_flags: int = 0, sats: int | None = 9,
             mileage_km: float | None = None, safety: dict[int, bytes] | None = None) -> Location:
    items = dict(safety or {})
    if mileage_km is not None:
        items[MILEAGE] = round(mileage_km * 10).to_bytes(4, "big")
    if sats is not None:
        items[SATELLITES] = bytes((sats,))
    status = (POSITIONED if positioned else 0) | 1  # ACC on
    return Location(alarm_flags, status, lat, lon, alt_m, speed_kmh, heading_deg, ts_ms, items)


class TerminalError(RuntimeError):
    """The gateway closed the connection or did not answer in time."""


class Terminal:
    def __init__(self, phone: str, version: str = "2013", *, timeout_s: float = 15.0) -> None:
        self.phone = phone
        self.version = version
        self.timeout_s = timeout_s
        self.serial = 0
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self._frames = FrameReader()
        self._inbox: list[Frame] = []
        self.unprompted: list[Frame] = []  # platform messages that answer nothing (0x8003)
        self.texts: list[str] = []  # 0x8300 texts received (each answered 0x0001 with text_result)
        self.text_result = OK

    async def connect(self, host: str, port: int) -> "Terminal":
        self.reader, self.writer = await asyncio.open_connection(host, port)
        return self

    def frame(self, msg_id: int, body: bytes, *, subpackage: tuple[int, int] | None = None,
              serial: int | None = None) -> bytes:
        """The next frame this terminal would send (its serial counts up)."""
        if serial is None:
            serial, self.serial = self.serial, (self.serial + 1) & 0xFFFF
        return encode(msg_id, self.phone, serial, body, version=self.version, subpackage=subpackage)

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def next_frame(self, timeout_s: float | None = None) -> Frame:
        """The next frame the platform sends (texts are answered and kept in `texts`)."""
        async with asyncio.timeout(timeout_s or self.timeout_s):
            while not self._inbox:
                await self._read()
        return self._inbox.pop(0)

    async def next_text(self, timeout_s: float | None = None) -> str:
        """Wait for a 0x8300 text (already answered 0x0001); the oldest not yet taken."""
        async with asyncio.timeout(timeout_s or self.timeout_s):
            while not self.texts:
                await self._read()
        return self.texts.pop(0)

    async def _read(self) -> None:
        data = await self.reader.read(4096)
        if not data:
            raise TerminalError(f"terminal {self.phone}: the gateway closed the connection")
        for wire in self._frames.feed(data):
            if isinstance(wire, bytes):
                frame = decode(wire)
                if frame.msg_id == TEXT_MESSAGE:
                    self.texts.append(decode_text_message(frame.body, frame.version)[1])
                    self.writer.write(self.frame(TERMINAL_RESPONSE, encode_general_response(
                        frame.serial, TEXT_MESSAGE, self.text_result)))
                else:
                    self._inbox.append(frame)

    async def answer_to(self, serial: int, msg_id: int) -> Frame:
        """The platform's answer to our message `serial` (other frames are kept aside)."""
        try:
            while True:
                frame = await self.next_frame()
                if frame.msg_id in (PLATFORM_RESPONSE, REGISTER_RESPONSE) and len(frame.body) >= 2 \
                        and int.from_bytes(frame.body[:2], "big") == serial:
                    return frame
                self.unprompted.append(frame)
        except TimeoutError:
            raise TerminalError(f"terminal {self.phone}: no answer to 0x{msg_id:04x} serial {serial}") from None

    async def request(self, msg_id: int, body: bytes) -> Frame:
        serial = self.serial
        await self.send_raw(self.frame(msg_id, body))
        return await self.answer_to(serial, msg_id)

    async def result(self, msg_id: int, body: bytes) -> int:
        """Send a message and return the result of the 0x8001 that answers it."""
        return decode_general_response(await self.request(msg_id, body)).result

    async def register(self, plate: str, colour: int = BLUE) -> tuple[int, str | None]:
        """(result, auth code or None)."""
        reply = await self.request(REGISTER, register_body(self.version, plate, colour=colour))
        result = reply.body[2]
        return result, (reply.body[3:].decode("gbk") if result == 0 else None)

    async def authenticate(self, code: str) -> int:
        return await self.result(AUTHENTICATE, auth_body(self.version, code))

    async def heartbeat(self) -> int:
        return await self.result(HEARTBEAT, b"")

    async def logout(self) -> int:
        return await self.result(LOGOUT, b"")

    async def report(self, loc: Location) -> int:
        return await self.result(LOCATION, encode_location(loc))

    async def batch(self, kind: int, locations: list[Location]) -> int:
        return await self.result(BATCH, encode_batch(kind, locations))

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except (ConnectionError, OSError):
                pass

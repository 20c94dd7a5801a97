"""The body cipher of JT/T 809 (both versions): a linear congruential keystream XORed
onto the body, so encrypting and decrypting are the same function.

Per byte: ``key = IA1 * (key % M1) + IC1`` in 32-bit unsigned arithmetic, then the
byte is XORed with bits 20-27 of the new key. The seed is the header's ENCRYPT_KEY
(0 counts as 1); M1, IA1 and IC1 are agreed with each peer platform out of band,
which is why they arrive as a ``Keys`` value and never from the wire.
It hides bodies from casual reading only; it is no protection against an attacker.
"""
from __future__ import annotations

from dataclasses import dataclass

_U32 = 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class Keys:
    """One peer's M1, IA1, IC1 (settings ``m1,ia1,ic1``)."""

    m1: int
    ia1: int
    ic1: int

    def __post_init__(self) -> None:
        if not (0 < self.m1 <= _U32 and 0 <= self.ia1 <= _U32 and 0 <= self.ic1 <= _U32):
            raise ValueError("M1 must be 1..2**32-1, IA1 and IC1 0..2**32-1")

    @classmethod
    def parse(cls, text: str) -> Keys:
        """``"m1,ia1,ic1"`` as in HAZMAT_JT809_UPSTREAM_KEYS; ValueError otherwise."""
        parts = [part.strip() for part in text.split(",")]
        if len(parts) != 3:
            raise ValueError("keys must be three integers: m1,ia1,ic1")
        return cls(*(int(part, 0) for part in parts))


def crypt(data: bytes, key: int, keys: Keys) -> bytes:
    """Encrypt or decrypt ``data`` with the header's ENCRYPT_KEY ``key``."""
    m1, ia1, ic1 = keys.m1, keys.ia1, keys.ic1
    state = (key & _U32) or 1
    out = bytearray(data)
    for at in range(len(out)):
        state = (ia1 * (state % m1) + ic1) & _U32
        out[at] ^= (state >> 20) & 0xFF
    return bytes(out)

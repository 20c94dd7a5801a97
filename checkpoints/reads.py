"""A plate read as the intake accepts it: the plate normalised as for fixes, the time in
the window the rules can use, the picture's address checked but never fetched.

The picture is the camera's; the server stores its address for the console to show. An
address that is not https, or that points at this server itself (loopback, a private
address, the API's own host name), is refused: a console following it would send its own
credentials to a place a camera chose.
"""
from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from streams.fix import ItemError, time_of, valid_plate, within_window

MAX_URL = 500
LOCAL_NAMES = ("localhost", "localhost.localdomain")


def image_url(url: str, own_hosts: frozenset[str]) -> str:
    """The URL when a browser may be shown it, else ItemError saying why not."""
    if len(url) > MAX_URL:
        raise ItemError(f"image_url is {len(url)} characters; the limit is {MAX_URL}")
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".").lower()
        parts.port  # noqa: B018 (a port that is no number raises here)
    except ValueError:
        raise ItemError("image_url is not a URL") from None
    if parts.scheme.lower() != "https" or not host:
        raise ItemError("image_url must be an https URL with a host")
    if parts.username is not None or parts.password is not None:
        raise ItemError("image_url must not carry credentials")
    if host in own_hosts or host in LOCAL_NAMES or host.endswith(".localhost") or _internal_address(host):
        raise ItemError(f"image_url points at this server or a local address ({host[:64]}); it is never fetched")
    return url


def _internal_address(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return not address.is_global


def normalise_read(item: dict, *, checkpoint_of_token: str | None, known_checkpoint, own_hosts: frozenset[str],
                   now_ms: int) -> dict:
    """The value published to hazmat.plate_reads.v1, or ItemError. `item` passed the
    PlateRead schema; a camera token speaks for its own checkpoint only; `known_checkpoint`
    says whether a checkpoint id is registered."""
    checkpoint_id = item["checkpoint_id"]
    if checkpoint_of_token is not None and checkpoint_id != checkpoint_of_token:
        raise ItemError(f"checkpoint_id {checkpoint_id!r} is another checkpoint's; this token speaks for "
                        f"{checkpoint_of_token!r}")
    if not known_checkpoint(checkpoint_id):
        raise ItemError(f"unknown checkpoint {checkpoint_id!r}: PUT it in /v1/checkpoints first")
    read = dict(item, plate=valid_plate(item["plate"]), ts=within_window(time_of(item["ts"], "ts"), now_ms))
    if "image_url" in item:
        image_url(item["image_url"], own_hosts)
    read["received_at"] = now_ms
    return read

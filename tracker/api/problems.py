"""RFC 9457 problem answers: every error the API gives has this one shape and a settled title."""
from __future__ import annotations

from dataclasses import dataclass, field

import orjson
from aiohttp import web

PROBLEM_TYPE_BASE = "https://hazmat-tracker.invalid/problems/"

# status -> (type slug, title): the settled vocabulary of error titles.
TITLES: dict[int, tuple[str, str]] = {
    400: ("malformed-request", "Malformed request"),
    401: ("unauthorized", "Missing or unknown token"),
    403: ("forbidden", "Not allowed for this token"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("too-large", "Request too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("invalid", "Invalid content"),
    500: ("internal", "Internal error"),
    503: ("unavailable", "Service unavailable"),
}


@dataclass
class Problem(Exception):
    """Raised anywhere in a handler; the problem middleware turns it into the answer."""

    status: int
    detail: str
    errors: list[dict] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> web.Response:
        slug, title = TITLES.get(self.status, ("error", "Error"))
        body = {"type": PROBLEM_TYPE_BASE + slug, "title": title, "status": self.status, "detail": self.detail}
        if self.errors:
            body["errors"] = self.errors
        return web.Response(
            body=orjson.dumps(body), status=self.status, content_type="application/problem+json",
            headers=self.headers,
        )


def error(message: str, *, index: int | None = None, field: str | None = None) -> dict:
    item: dict = {"message": message}
    if index is not None:
        item["index"] = index
    if field:
        item["field"] = field
    return item

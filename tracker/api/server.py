"""How the API is served: one runner for `hazmat api`/`up` and the tests.

Two things aiohttp decides below the app, and we decide otherwise: request bodies are not
decompressed by the protocol (a gzip bomb would cost CPU before any token is checked;
`respond.read_json` inflates after authentication, bounded), and a request the HTTP
parser refuses (a malformed header, a broken chunk) is answered as problem+json like
every other error, not as text/plain.
"""
from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from tracker.api.problems import Problem

log = logging.getLogger(__name__)
OPTIONS = {"auto_decompress": False, "access_log": None}


class _ProblemHandler(RequestHandler):
    def handle_error(self, request, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        if status == 400:  # the client's fault: one line, not a traceback an attacker can repeat at will
            log.warning("refused a request the HTTP parser could not read: %.200r", str(exc or message))
        else:
            super().handle_error(request, status, exc, message)  # logs, and refuses once output began
        detail = "the request is not valid HTTP" if status == 400 else "the server failed; the error is logged"
        response = Problem(status, detail).response()
        response.force_close()
        return response


class _Server(web.Server):
    def __call__(self) -> RequestHandler:
        return _ProblemHandler(self, loop=self._loop, **self._kwargs)


class ApiRunner(web.AppRunner):
    def __init__(self, app: web.Application, **kwargs) -> None:
        super().__init__(app, **{**OPTIONS, **kwargs})

    async def _make_server(self) -> web.Server:
        plain = await super()._make_server()
        return _Server(plain.request_handler, request_factory=plain.request_factory,
                       handler_cancellation=plain.handler_cancellation, loop=plain._loop, **plain._kwargs)


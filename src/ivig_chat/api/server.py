"""How `ivig-chat serve` runs the app under uvicorn: the HTTP settings that face the internet.

uvicorn closes an idle keep-alive connection after a while, but it sets no deadline for a
request's headers: a client that connects and sends nothing, or half a header, holds its
connection open forever (a slowloris). HeaderDeadline, a subclass of uvicorn's httptools
protocol, closes the connection when the headers of a request have not all arrived within
the deadline, and answers bytes that are not HTTP with the API's JSON error (400) instead of
uvicorn's plain text. The body has its own deadline in the app (api.middleware.BodyLimit -> 408).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from ..config import Settings

log = logging.getLogger(__name__)


def header_deadline_protocol(seconds: float) -> type[asyncio.Protocol] | None:
    """uvicorn's httptools protocol with a header deadline; None without httptools."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # pragma: no cover - httptools is a dependency
        return None

    class HeaderDeadline(HttpToolsProtocol):
        """Close the connection unless a request's headers are complete `seconds` after the
        connection opened, or after the first byte of each later request on it."""

        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm()

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def send_400_response(self, msg: str) -> None:
            """uvicorn's answer to bytes that are not HTTP, in the API's JSON error shape
            (uvicorn's own is plain text); the connection is closed as before."""
            body = json.dumps({"error": {"code": "bad_request", "message": msg}}).encode()
            head = [b"HTTP/1.1 400 Bad Request\r\n"]
            for name, value in self.server_state.default_headers:
                head.extend([name, b": ", value, b"\r\n"])
            head.extend(
                [
                    b"content-type: application/json\r\n",
                    b"x-content-type-options: nosniff\r\n",
                    b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                    b"connection: close\r\n\r\n",
                    body,
                ]
            )
            self.transport.write(b"".join(head))
            self.transport.close()

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(seconds, self._expire)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expire(self) -> None:
            self._deadline = None
            if not self.transport.is_closing():
                log.info("closing a connection whose request headers did not arrive in time")
                self.transport.close()

    return HeaderDeadline


def run(app: Any, settings: Settings, host: str, port: int) -> None:
    """Serve `app` on host:port until interrupted."""
    import uvicorn

    protocol = header_deadline_protocol(settings.header_timeout_seconds)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        http=protocol or "auto",
        # uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1, letting a local
        # client pick the address its rate limit is counted under.
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
        server_header=False,  # no "server: uvicorn" banner for scanners to match
        # an idle keep-alive connection is closed as soon as a stalled header would be
        timeout_keep_alive=max(1, round(settings.header_timeout_seconds)),
    )

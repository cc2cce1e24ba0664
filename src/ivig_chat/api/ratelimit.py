"""Request-rate limits per caller, counted by the `limits` library.

Counters live in a `limits` storage: memory:// (one process, the default) or a shared one such
as redis:// so that replicas count together. A moving window is used so that a burst at the
edge of two fixed windows cannot pass twice the rate.
"""

from __future__ import annotations

import ipaddress
import math
import time
from typing import TYPE_CHECKING

from starlette.types import Scope

from ..errors import IvigChatError

if TYPE_CHECKING:
    from limits import RateLimitItem
    from limits.strategies import RateLimiter as Strategy


class RateLimiter:
    """check(identity, rate) counts one request and says how long to wait when over."""

    def __init__(self, storage_uri: str = "memory://", *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.storage_uri = storage_uri
        self._strategy: Strategy | None = None
        self._items: dict[str, list[RateLimitItem]] = {}
        if enabled:
            from limits.storage import storage_from_string
            from limits.strategies import MovingWindowRateLimiter

            try:
                self._strategy = MovingWindowRateLimiter(storage_from_string(storage_uri))
            except Exception as exc:  # unknown scheme, or its client library not installed
                raise IvigChatError(
                    f"IVIG_CHAT_RATE_LIMIT_STORAGE={storage_uri!r}: {exc} (memory:// needs "
                    "nothing; redis:// needs the redis extra)"
                ) from None

    @property
    def blocking(self) -> bool:
        """Whether a check may wait on the network (a shared storage): run it off the loop."""
        return self.enabled and not self.storage_uri.startswith("memory://")

    def check(self, identity: str, rate: str) -> int | None:
        """Count one request of `identity` against every limit in `rate` ("60/minute;1000/hour").

        None when allowed; otherwise the whole seconds (at least 1) until one more would be.
        """
        if self._strategy is None:
            return None
        for item in self._parse(rate):
            if not self._strategy.hit(item, identity):
                reset = self._strategy.get_window_stats(item, identity).reset_time
                return max(1, math.ceil(reset - time.time()))
        return None

    def _parse(self, rate: str) -> list[RateLimitItem]:
        if rate not in self._items:
            from limits import parse_many

            self._items[rate] = parse_many(rate)
        return self._items[rate]


def client_address(scope: Scope) -> str:
    """The caller's address as rate limits count it: IPv4 as is, IPv6 by its /64 (one host
    usually holds a whole /64, so counting single addresses would let it rotate freely).

    It is the TCP peer unless the server was told to trust a proxy's X-Forwarded-For
    (IVIG_CHAT_FORWARDED_ALLOW_IPS), in which case uvicorn has already put the client there.
    """
    client = scope.get("client")
    host = client[0] if client else ""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)

"""Where outgoing webhooks may go: never to private, loopback, link-local or otherwise internal addresses (nor to
host names resolving to them) unless `SMARKETING_WEBHOOK_ALLOW` names the host, the address or its network.

The check runs when an endpoint is configured and again at every delivery, on the addresses resolved then; the
request is sent to the very address that was checked (the connection is pinned to it), so a name that resolves
to a public address when checked and to an internal one a moment later (DNS rebinding) cannot slip through.
Redirects are not followed: a 3xx answer is a failed attempt like any other non-2xx.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
ALLOW_SETTING = "SMARKETING_WEBHOOK_ALLOW"


class TargetRefused(ValueError):
    """A webhook URL whose host is, or resolves to, an address webhooks may not reach."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]  # the checked addresses, in the resolver's order


def _internal_kind(ip: IPAddress) -> str | None:
    """Why an address is not a public one (None when it is)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return _internal_kind(ip.ipv4_mapped)
    for kind, hit in (("loopback", ip.is_loopback), ("link-local", ip.is_link_local),
                      ("unspecified", ip.is_unspecified), ("multicast", ip.is_multicast),
                      ("private", ip.is_private), ("reserved", ip.is_reserved)):
        if hit:
            return kind
    if isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.ip_network("100.64.0.0/10"):
        return "shared (carrier-grade NAT)"
    return None


def _allowed(host: str, ip: IPAddress, allow: Iterable[str]) -> bool:
    for entry in allow:
        if entry == host:
            return True
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue  # a host name entry, compared above
    return False


def resolve(host: str, port: int) -> list[str]:
    """The addresses a host name (or literal address) resolves to now."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def target_check(url: str, *, allow: Iterable[str] | None = None, must_resolve: bool = True) -> Target:
    """The URL's host and the addresses it may be sent to; TargetRefused when any address is internal and not
    allowed. A name that does not resolve is refused when `must_resolve` (at delivery), and passes otherwise
    (at configuration, where DNS may be briefly away; every delivery checks again)."""
    allow = tuple(settings.SMARKETING_WEBHOOK_ALLOW if allow is None else allow)
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme not in ("http", "https") or not host:
        raise TargetRefused(f"webhook URL {url!r} must be an absolute http(s) URL")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetRefused(f"webhook URL {url!r} has an invalid port") from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError) as exc:
        if must_resolve:
            raise TargetRefused(f"webhook host {host!r} does not resolve ({exc})") from None
        return Target(parts.scheme, host, port, path, ())
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        kind = _internal_kind(ip)
        if kind and not _allowed(host, ip, allow):
            named = f"{host!r}" if host == address else f"{host!r} resolves to {address}, which"
            raise TargetRefused(f"webhook host {named} is a {kind} address; webhooks go to public addresses only, "
                                f"unless {ALLOW_SETTING} names the host, the address or its network")
    return Target(parts.scheme, host, port, path, tuple(addresses))


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, target: Target, address: str, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, target: Target, address: str, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # Why server_hostname: the certificate is checked against the URL's host, not the pinned address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post_pinned(target: Target, body: bytes, headers: dict[str, str], *, timeout: float) -> int:
    """POST to the first checked address of a target (the Host header and TLS name stay the URL's host); returns
    the HTTP status. Raises OSError when no address answers."""
    last: OSError | None = None
    for address in target.addresses:
        cls = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
        conn = cls(target, address, timeout)
        try:
            try:
                conn.connect()
            except OSError as exc:  # nothing was sent: the next address may answer
                last = exc
                continue
            # Why no fallback from here on: the request may have reached the receiver; a retry is the backoff's.
            conn.request("POST", target.path, body=body, headers=headers)
            response = conn.getresponse()
            response.read(65536)
            return int(response.status)
        finally:
            conn.close()
    raise last or OSError(f"no address to send to for {target.host!r}")

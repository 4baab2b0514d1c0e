"""Who may use a page served on a network: the addresses it answers to, and its access token.

Two checks, in one piece of ASGI middleware in front of the whole server (pages, files and the
live websocket alike):

- **Host.** Every request must name, in its Host header, an address this server is served on.
  A web page elsewhere cannot then reach the server by pointing a domain of its own at this
  computer (DNS rebinding), on loopback as on a network.
- **Token.** When the server listens beyond loopback, every request must carry the random
  token printed in the server's address: as `?token=` on the first visit, after which the
  browser keeps it in a cookie for the page's own files and websocket. Anything else gets 403.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import socket
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

COOKIE = "leadsim_token"
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    return secrets.token_urlsafe(16)


def lan_addresses() -> list[str]:
    """This computer's addresses on its networks (not loopback, not link-local), IPv4 first,
    the one its default route leaves by ahead of the others."""
    import psutil

    found = []
    for addrs in psutil.net_if_addrs().values():
        for a in addrs:
            if a.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            ip = ipaddress.ip_address(a.address.split("%")[0])
            if not (ip.is_loopback or ip.is_link_local or ip.is_unspecified):
                found.append(ip)
    preferred = _default_route_address()
    found.sort(key=lambda ip: (str(ip) != preferred, ip.version, str(ip)))
    return list(dict.fromkeys(str(ip) for ip in found))


def _default_route_address() -> str | None:
    """The address a packet to the outside would leave from; connecting a UDP socket sends
    nothing, so this works offline too (then there may be no route, and no answer)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("8.8.8.8", 53))
            return probe.getsockname()[0]
    except OSError:
        return None


def served_hosts(bind: str) -> set[str]:
    """The names a browser may use for a server listening on `bind`."""
    hosts = set(LOOPBACK_NAMES)
    if is_loopback(bind):
        return hosts | {bind}
    hosts.add(bind)
    if bind in ("0.0.0.0", "::", ""):
        hosts.update(lan_addresses())
        name = socket.gethostname()
        hosts.update({name, socket.getfqdn(name)})
    return {h.lower() for h in hosts if h}


def public_address(bind: str) -> str:
    """The address to print and share: the LAN address when listening on every interface."""
    if bind in ("0.0.0.0", "::", ""):
        lan = lan_addresses()
        return lan[0] if lan else "127.0.0.1"
    return bind


def url(host: str, port: int, token: str | None = None, path: str = "/") -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}{path}" + (f"?token={token}" if token else "")


def _host_name(value: str) -> str:
    """The host part of a Host header: `[::1]:8765` -> `::1`, `Example:80` -> `example`."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class AccessGate:
    """ASGI middleware: 403 for a request to a host this server is not served on, or (when a
    token is set) one without the token in its query or cookie."""

    def __init__(self, app, hosts: set[str], token: str | None = None):
        self.app = app
        self.hosts = {h.lower() for h in hosts}
        self.token = token

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if _host_name(headers.get("host", "")) not in self.hosts:
            return await _refuse(scope, send, "this server does not answer to that host name")
        if self.token is None:
            return await self.app(scope, receive, send)
        given = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [""])[0]
        cookie = SimpleCookie(headers.get("cookie", "")).get(COOKIE)
        if given and hmac.compare_digest(given, self.token):
            return await self.app(scope, receive, _setting_cookie(send, self.token))
        if cookie is not None and hmac.compare_digest(cookie.value, self.token):
            return await self.app(scope, receive, send)
        return await _refuse(scope, send, "open the address printed by the server, with its ?token=")


def _setting_cookie(send, token: str):
    """Remember the token in the browser for the page's own requests (its files and websocket)."""
    async def send_with_cookie(message):
        if message["type"] == "http.response.start":
            cookie = f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
            message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie.encode())]}
        await send(message)
    return send_with_cookie


async def _refuse(scope, send, why: str) -> None:
    if scope["type"] == "websocket":  # closing before accepting makes the server answer 403
        await send({"type": "websocket.close", "code": 1008})
        return
    body = f"403 Forbidden: {why}\n".encode()
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})

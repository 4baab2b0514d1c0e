"""Who may do what in a room. Three tokens, each shown only to whom it belongs:

- the **room code** (8 characters, shown big on the projector and in the join address
  `/?token=CODE`): lets a browser open the join page and join, nothing else;
- a **participant's token** (made when it joins; kept in a cookie, and in the address its page
  shows, so that a reloaded browser, or another one, gets its member back): acts for that
  participant's member only;
- the **console's token** (`/console?token=...`, printed for the facilitator): the controls,
  the projector view, the debrief and the exports.

Each arrives as `?token=` in the address once, after which the browser keeps it in its own
HttpOnly, SameSite=Strict cookie for 12 hours (one cookie a role, so a facilitator may also
play). A request with none of them valid gets 403, on loopback too. In front of this sits the page's AccessGate
(sim/viz/gate.py), which refuses a request naming a host this server is not served on.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs

from .room import Participant, Room, normal_code

COOKIES = {"guest": "leadsim_room", "player": "leadsim_player", "console": "leadsim_console"}


@dataclass
class Identity:
    guest: bool = False  # holds the room code
    player: Participant | None = None
    console: bool = False


def role_of(room: Room, token: str) -> tuple[str, object] | None:
    """("console", True), ("player", participant) or ("guest", True) for a valid token, else None."""
    if not token or len(token) > 200:
        return None
    if hmac.compare_digest(token.encode(), room.console_token.encode()):
        return "console", True
    p = room.participant(token)
    if p is not None:
        return "player", p
    if hmac.compare_digest(normal_code(token).encode(), room.code.encode()):
        return "guest", True
    return None


class RoomGate:
    """ASGI middleware: works out the request's Identity (scope["state"]["identity"]) from its
    tokens, keeps a token given in the address in a cookie, and answers 403 when it has none."""

    def __init__(self, app, room: Room):
        self.app = app
        self.room = room

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        identity, remember = Identity(), None
        given = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [""])[0]
        found = role_of(self.room, given)
        if found:
            _grant(identity, *found)
            remember = (COOKIES[found[0]], given if found[0] != "guest" else self.room.code)
        try:
            jar = SimpleCookie(headers.get("cookie", ""))
        except CookieError:
            jar = SimpleCookie()
        for role, name in COOKIES.items():
            morsel = jar.get(name)
            if morsel is not None:
                found = role_of(self.room, morsel.value)
                if found and found[0] == role:
                    _grant(identity, *found)
        if not (identity.guest or identity.player or identity.console):
            return await refuse(send, "this room answers only to its own addresses: open the address "
                                      "(or scan the code) shown in the room")
        scope.setdefault("state", {})["identity"] = identity
        await self.app(scope, receive, _setting_cookie(send, *remember) if remember else send)


def _grant(identity: Identity, role: str, who) -> None:
    if role == "console":
        identity.console = True
    elif role == "player":
        identity.player = identity.player or who
    else:
        identity.guest = True


COOKIE_SECONDS = 12 * 3600  # a day's workshop: a phone closed and opened again still holds its token


def cookie_header(name: str, value: str) -> tuple[bytes, bytes]:
    return b"set-cookie", f"{name}={value}; Path=/; Max-Age={COOKIE_SECONDS}; HttpOnly; SameSite=Strict".encode()


def _setting_cookie(send, name: str, value: str):
    async def send_with_cookie(message):
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), cookie_header(name, value)]}
        await send(message)
    return send_with_cookie


async def refuse(send, why: str, status: int = 403) -> None:
    body = f"{status} Forbidden: {why}\n".encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})

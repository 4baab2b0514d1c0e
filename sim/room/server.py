"""The room's web server: Starlette, plain pages from `static/`, and long-polled rounds.

Every browser asks `GET /api/me?since=<etag>` (a participant) or `GET /api/console?since=<version>`
(the console); the answer comes at once if something changed since, or as soon as something does
(at most POLL_SECONDS later). Long polling needs nothing of the network but plain HTTP, reconnects
by itself after a dropped Wi-Fi or a restarted server, and at 30 phones costs nothing.

Everything that touches the room runs on the event loop's one thread (the handlers are
coroutines, and the room's work per request is milliseconds), so the room needs no lock. A
background task closes a round whose timer has run out.

Routes, and who may use them (sim/room/access.py):

| route | who |
|---|---|
| `GET /` (join and play), `GET /static/...` | anyone holding a valid token |
| `GET /api/me`, `POST /api/join` | the room code or a participant's token |
| `POST /api/decide`, `/api/leave`, `/api/switch` | a participant's token: its own member only |
| `GET /console`, `/api/console`, `/debrief`, `/export/<table>.csv`; `POST /api/control` | the console's token |
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ..viz.gate import AccessGate
from . import debrief, drawing, qr
from .access import RoomGate, cookie_header
from .room import Room, RoomError, shown_code

log = logging.getLogger("leadsim.room")

STATIC = Path(__file__).parent / "static"
POLL_SECONDS = 20.0
TICK_SECONDS = 0.05
MAX_BODY = 4096  # bytes of a request's JSON: a decision or a name is far smaller
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
# The pages load only their own files; server-made SVG is inserted as markup, styles may be inline.
SECURITY = {"content-security-policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                                       "frame-ancestors 'none'",
            "x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "cache-control": "no-store"}


class Hub:
    """Wakes every waiting long poll when the room changes."""

    def __init__(self):
        self._event: asyncio.Event | None = None

    def _current(self) -> asyncio.Event:
        if self._event is None:
            self._event = asyncio.Event()
        return self._event

    def changed(self) -> None:
        event, self._event = self._current(), asyncio.Event()
        event.set()

    async def wait(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._current().wait(), timeout=seconds)
        except asyncio.TimeoutError:
            pass


def _plain(value):
    """JSON without NaN (a browser's JSON.parse refuses it)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def answer(data, status: int = 200, headers: dict | None = None) -> Response:
    return JSONResponse(_plain(data), status_code=status, headers={**SECURITY, **(headers or {})})


def error(message: str, status: int = 400) -> Response:
    return answer({"error": message}, status)


async def read_json(request: Request) -> dict:
    """The request's JSON object, at most MAX_BODY bytes; RoomError otherwise."""
    size = 0
    chunks = []
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise RoomError(f"a message is at most {MAX_BODY} bytes", 413)
        chunks.append(chunk)
    try:
        data = json.loads(b"".join(chunks) or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise RoomError("the message is not JSON") from None
    if not isinstance(data, dict):
        raise RoomError("the message is not a JSON object")
    return data


def make_app(room: Room, hosts: set[str], join_address: str, stopping=lambda: False) -> AccessGate:
    """The ASGI app: Host check (AccessGate), tokens (RoomGate), then the routes. `stopping()`
    turns true when the server shuts down: waiting polls then answer at once, so that it stops
    within a second (a browser then shows "Reconnecting…" until the room is back)."""
    hub = Hub()
    pages = {path.name: path.read_bytes() for path in STATIC.iterdir() if path.suffix in TYPES}
    qr_svg = qr.svg(join_address)
    drawn: dict = {}

    def identity(request: Request):
        return request.state.identity

    def needs(request: Request, *roles: str) -> None:
        who = identity(request)
        if not any(getattr(who, role) for role in roles):
            raise RoomError({"console": "this needs the facilitator's console address",
                             "player": "join the room first",
                             "guest": "open the room's address first"}[roles[0]], 403)

    def page(name: str) -> Response:
        return Response(pages[name], media_type=TYPES[Path(name).suffix], headers=SECURITY)

    def pictures() -> dict:
        """The organisation and the plots, redrawn only when something they show changed."""
        key = (int(room.model.steps), int(room.model.state.n), len(room.org.marks),
               tuple((p.name, p.member) for p in room.active))
        if drawn.get("key") != key:
            drawn.update(key=key, org=drawing.organisation(room), plots=drawing.plots(room))
        return {"org": drawn["org"], "plots": drawn["plots"]}

    async def wait_while(same, since: str | None) -> None:
        loop = asyncio.get_running_loop()
        until = loop.time() + POLL_SECONDS
        while since is not None and same() == since and loop.time() < until and not stopping():
            await hub.wait(min(0.5, until - loop.time()))

    # ----- pages ---------------------------------------------------------------------------
    async def participant_page(request):
        return page("participant.html")

    async def no_icon(request):
        return Response(status_code=204)

    async def console_page(request):
        needs(request, "console")
        return page("console.html")

    async def static_file(request):
        name = request.path_params["name"]
        if not re.fullmatch(r"[a-z0-9-]+\.(js|css|svg)", name) or name not in pages:
            return PlainTextResponse("404 Not Found\n", status_code=404)
        return page(name)

    async def debrief_page(request):
        needs(request, "console")
        return HTMLResponse(debrief.printable(room, plots="".join(pictures()["plots"])), headers=SECURITY)

    async def export(request):
        needs(request, "console")
        name = request.path_params["name"]
        if name not in debrief.TABLES:
            return PlainTextResponse("404 Not Found\n", status_code=404)
        return Response(debrief.csv(room, name), media_type="text/csv; charset=utf-8",
                        headers={**SECURITY, "content-disposition": f'attachment; filename="room-{room.code}-{name}.csv"'})

    # ----- participants ----------------------------------------------------------------------
    async def me(request):
        needs(request, "player", "guest")
        p = identity(request).player
        await wait_while(lambda: room.etag(p), request.query_params.get("since"))
        return answer(room.participant_view(p))

    async def join(request):
        needs(request, "guest", "player")
        data = await read_json(request)
        p = room.join(data.get("name"), token=getattr(identity(request).player, "token", None))
        hub.changed()
        return answer({"token": p.token, **room.participant_view(p)}, headers=dict([_decode(cookie_header(
            "leadsim_player", p.token))]))

    async def decide(request):
        needs(request, "player")
        data = await read_json(request)
        unknown = set(data) - {"round", "kind", "task_id", "member"}
        if unknown:
            raise RoomError(f"unknown field(s): {', '.join(sorted(map(str, unknown)))[:200]}")
        p = identity(request).player
        outcome = room.decide(p, data.get("kind"), data.get("task_id"), data.get("round"), data.get("member"))
        hub.changed()
        return answer({**outcome, **room.participant_view(p)})

    async def leave(request):
        needs(request, "player")
        p = identity(request).player
        room.leave(p)
        hub.changed()
        return answer(room.participant_view(p))

    async def switch(request):
        needs(request, "player")
        p = identity(request).player
        room.switch_member(p)
        hub.changed()
        return answer(room.participant_view(p))

    # ----- the console -----------------------------------------------------------------------
    def console_state() -> dict:
        return {**room.console_view(), **pictures(), "code": shown_code(room.code), "join_address": join_address,
                "qr": qr_svg, "legend": drawing.legend()}

    async def console(request):
        needs(request, "console")
        await wait_while(lambda: str(room.console_version), request.query_params.get("since"))
        return answer(console_state())

    async def control(request):
        needs(request, "console")
        data = await read_json(request)
        action, value = data.get("action"), data.get("value")
        actions = {"start": room.start, "pause": room.pause, "resume": room.resume, "next": room.next_round,
                   "end": room.end}
        if action in actions:
            actions[action]()
        elif action == "timer":
            room.set_timer(value)
        elif action == "steps":
            room.set_steps_per_round(value)
        elif action == "regime":
            room.intervene("regime", value)
        elif action == "event":
            if value not in ("leader_leaves", "shock"):
                raise RoomError("an event is leader_leaves or shock")
            room.intervene(value)
        else:
            raise RoomError(f"unknown action {str(action)[:40]!r}")
        if action == "end" and room.folder is not None:
            debrief.export(room, room.folder / "debrief")
        hub.changed()
        return answer(console_state())

    async def ticking():
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                if room.tick():
                    hub.changed()
            except Exception:  # a failed round must not stop the clock; the log has it
                log.exception("closing a round failed")

    @asynccontextmanager
    async def lifespan(app):
        task = asyncio.create_task(ticking())
        try:
            yield
        finally:
            task.cancel()

    async def room_error(request, exc: RoomError):
        return error(str(exc), exc.status)

    routes = [
        Route("/", participant_page), Route("/favicon.ico", no_icon), Route("/static/{name}", static_file),
        Route("/api/me", me), Route("/api/join", join, methods=["POST"]),
        Route("/api/decide", decide, methods=["POST"]), Route("/api/leave", leave, methods=["POST"]),
        Route("/api/switch", switch, methods=["POST"]),
        Route("/console", console_page), Route("/api/console", console), Route("/api/control", control, methods=["POST"]),
        Route("/debrief", debrief_page), Route("/export/{name}.csv", export),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={RoomError: room_error})
    app.state.room, app.state.hub = room, hub
    return AccessGate(RoomGate(app, room), hosts=hosts)


def _decode(header: tuple[bytes, bytes]) -> tuple[str, str]:
    return header[0].decode(), header[1].decode()

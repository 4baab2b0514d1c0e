"""`uv run leadsim-room`: start (or resume) a participatory room and print its addresses.

    uv run leadsim-room                                   # this computer only: http://127.0.0.1:8766/
    uv run leadsim-room --host 0.0.0.0                    # phones on this network join at the LAN address
    uv run leadsim-room --host 0.0.0.0 --regime heroic --members 100 --timer 30
    uv run leadsim-room --room outputs/rooms/monday       # the same folder again: resume after a crash

It prints the room code, the participant address (also as a QR code) and the facilitator's
console address, which holds the console's secret token: keep that one to yourself. The room is
saved in its folder as it goes; starting again with the same `--room` resumes it at the last
completed round, with the same code, addresses and participants.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
import webbrowser
from datetime import datetime
from pathlib import Path

from ..config import REGIMES
from ..viz import gate
from .room import MAX_STEPS_PER_ROUND, ORGS, ROOM_FILE, Room, RoomError, RoomSettings, shown_code

DEFAULT_PORT = 8766  # leadsim-viz has 8765: both may run side by side


def parse_args(argv=None) -> argparse.Namespace:
    d = RoomSettings()
    parser = argparse.ArgumentParser(prog="leadsim-room", description="Start a participatory room: participants play "
                                     "members of the organisation from their own phones or laptops.")
    parser.add_argument("--scenario", default=d.scenario, help=f"a scenario of the page's menu (default {d.scenario})")
    parser.add_argument("--regime", default=d.regime, choices=REGIMES, help=f"at the start (default {d.regime})")
    parser.add_argument("--org", default=d.org, choices=ORGS, help=f"org structure (default {d.org})")
    parser.add_argument("--members", type=int, default=d.n_members, help=f"members (default {d.n_members})")
    parser.add_argument("--seed", type=int, default=d.seed, help=f"seed (default {d.seed})")
    parser.add_argument("--steps-per-round", type=int, default=d.steps_per_round,
                        help=f"model steps a round (1..{MAX_STEPS_PER_ROUND}, default {d.steps_per_round})")
    parser.add_argument("--timer", type=float, default=d.timer,
                        help=f"seconds to decide in a round (default {d.timer:g}; 0: no timer)")
    parser.add_argument("--room", type=Path, default=None,
                        help="the room's folder (default outputs/rooms/<date>_<time>); an existing room there is resumed")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--open", action="store_true", help="open the console in the default browser")
    return parser.parse_args(argv)


def warm_up() -> None:
    """Load the compiled kernels before the first round waits for them: a throwaway room of 20
    members plays a round (the first run on a machine compiles them, about half a minute)."""
    room = Room(RoomSettings(n_members=20, timer=0))
    room.join("warm-up")
    room.start()
    room.next_round()


def build_room(args) -> tuple[Room, bool]:
    """The room to serve and whether it was resumed."""
    folder = args.room or Path("outputs") / "rooms" / datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    if (folder / ROOM_FILE).is_file():
        return Room.load(folder), True
    settings = RoomSettings(scenario=args.scenario, regime=args.regime, org=args.org, n_members=args.members,
                            seed=args.seed, steps_per_round=args.steps_per_round, timer=args.timer)
    return Room(settings, folder), False


def console_host(bind: str) -> str:
    """Where the facilitator's own browser reaches the server."""
    if bind in ("0.0.0.0", ""):
        return "127.0.0.1"
    if bind == "::":
        return "::1"
    return bind


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def main(argv=None) -> None:
    args = parse_args(argv)
    print("leadsim-room: loading the engine…", flush=True)
    warm_up()
    try:
        room, resumed = build_room(args)
    except RoomError as exc:
        print(f"leadsim-room: error: {exc}", file=sys.stderr)
        sys.exit(2)
    port = args.port or free_port(args.host)
    shared = gate.public_address(args.host)
    join_address = gate.url(shared, port, room.code)
    console_address = gate.url(console_host(args.host), port, room.console_token, path="/console")
    if not gate.is_loopback(args.host):
        print(f"leadsim-room: WARNING: listening on {args.host}, so other computers on this network can reach the "
              "room. Only those given the room's address (it holds the room code) can join, and only the console's "
              "address controls the room; stop the server when the session ends.", file=sys.stderr, flush=True)
    s = room.settings
    what = (f"resumed after round {len(room.rounds)}" if resumed else
            f"{s.n_members} members, {s.org}, {s.regime}, scenario {s.scenario}, seed {s.seed}")
    print(f"\nroom {shown_code(room.code)}  ({what})\nfolder: {room.folder}"
          f"  (to resume after a crash: uv run leadsim-room --room {room.folder} --host {args.host} --port {port})\n")
    from . import qr

    print(qr.terminal(join_address))
    print(f"participants join at:  {join_address}")
    if gate.is_loopback(args.host):
        print("  (only this computer can join: to let phones on this network join, start with --host 0.0.0.0)")
    print(f"facilitator console:   {console_address}   (keep this address to yourself)\n", flush=True)
    serve(room, args.host, port, join_address, console_address, args.open)


def serve(room: Room, host: str, port: int, join_address: str, console_address: str = "", open_browser=False) -> None:
    import uvicorn

    from .server import make_app

    server: list[uvicorn.Server] = []
    app = make_app(room, gate.served_hosts(host), join_address, stopping=lambda: bool(server) and server[0].should_exit)

    def announce():
        target = console_host(host)
        for _ in range(600):
            try:
                with socket.create_connection((target, port), timeout=0.5):
                    print(f"leadsim-room ready on port {port}  (Ctrl+C stops it; the room is saved)", flush=True)
                    if open_browser and console_address:
                        webbrowser.open(console_address)
                    return
            except OSError:
                time.sleep(0.1)

    threading.Thread(target=announce, daemon=True).start()
    server.append(uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                                timeout_graceful_shutdown=2)))
    server[0].run()


if __name__ == "__main__":
    main()

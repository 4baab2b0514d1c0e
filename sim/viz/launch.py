"""`uv run leadsim-viz`: serve the page on this computer and print its address.

    uv run leadsim-viz                       # http://127.0.0.1:8765
    uv run leadsim-viz --port 9000 --open    # another port, and open the default browser
    uv run leadsim-viz --host 0.0.0.0        # reachable from other machines on the network
    uv run leadsim-viz --check               # pre-flight: files, engine, port; says what to fix

Listening beyond loopback is a deliberate act: it prints a warning, and the page then answers
only requests that carry the random token in the printed address (see sim/viz/gate.py). Every
request must also name a host this server is served on, which blocks DNS rebinding.

Works with no internet: every front-end file is served from the virtual environment (see
sim/viz/assets.py), and solara's version check and usage telemetry are switched off.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import threading
import time
import warnings
from importlib import import_module

APP = "sim.viz.app:page"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="leadsim-viz", description="Serve the leadsim browser page.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    parser.add_argument("--open", action="store_true", help="open the page in the default browser")
    parser.add_argument("--check", action="store_true",
                        help="check that the page can start here (front-end files, the page's code, the compiled "
                             "engine, a free port), say what to do about anything that fails, and exit")
    parser.add_argument("--fetch-assets", action="store_true",
                        help="download missing front-end files from the npm registry (needs internet), then exit")
    return parser.parse_args(argv)


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def warm_up() -> None:
    """Load the compiled kernels (engine and layout) before the first visitor waits for them.
    The first run on a machine compiles them (about half a minute); later runs load a cache."""
    from .live import LiveOrg

    LiveOrg("warm-up", {"n_members": 20, "org": {"name": "flat", "k": 4}}).step()


def preflight(host: str, port: int, out=None) -> bool:
    """A facilitator's check before a session, in a few seconds once the engine is compiled: one
    line per check, `ok` or `FAIL` with what to do; True if everything passed."""
    out = out or sys.stdout
    passed = True

    def report(ok: bool, text: str, fix: str = "") -> None:
        nonlocal passed
        passed &= ok
        print(f"{'ok  ' if ok else 'FAIL'}  {text}" + (f"\n      what to do: {fix}" if fix and not ok else ""),
              file=out, flush=True)

    from . import assets, gate

    absent = assets.missing()
    report(not absent, f"front-end files ({'all present' if not absent else 'missing: ' + ', '.join(absent)}) "
           f"in {assets.cdn_dir()}",
           "run `uv sync --reinstall-package solara-assets`, or, while online, `uv run leadsim-viz --fetch-assets`")
    try:
        import_module("sim.viz.app")
        report(True, "the page's code loads (sim.viz.app)")
    except Exception as exc:  # a package missing or broken in this environment
        report(False, f"the page's code does not load: {type(exc).__name__}: {exc}",
               "reinstall the environment from uv.lock: `uv sync --no-dev --reinstall`")
    started = time.perf_counter()
    try:
        warm_up()
        took = time.perf_counter() - started
        report(True, f"compiled engine: a model ran in {took:.1f} s"
               + (" (compiled now and cached: later starts take a few seconds)" if took > 15 else ""))
    except Exception as exc:
        report(False, f"compiled engine: {type(exc).__name__}: {exc}",
               "reinstall numba and llvmlite: `uv sync --no-dev --reinstall-package numba --reinstall-package llvmlite`")
    if port:
        try:
            with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
                sock.bind((host, port))
            report(True, f"port {port} on {host} is free")
        except OSError as exc:
            report(False, f"port {port} on {host} cannot be used: {exc.strerror or exc}",
                   "another program (another leadsim-viz?) holds it: stop it, or use another port: "
                   f"`uv run leadsim-viz --port {port + 1 if port < 65535 else 8765}`")
    else:
        report(True, "port: a free one will be picked at start (--port 0)")
    if not gate.is_loopback(host):
        lan = gate.lan_addresses() if host in ("0.0.0.0", "::", "") else [host]
        found = (f"the room reaches this computer at {lan[0]} (at start the page prints the full address, "
                 "with its access token)" if lan else "no network address for the room: this computer is on no network")
        report(bool(lan), found, "join the room's network (Wi-Fi or cable) and check again")
    print(("all checks passed: start the page the same way, without --check" if passed
           else "some checks failed: see `what to do` above"), file=out, flush=True)
    return passed


def announce_when_ready(host: str, port: int, shown: str, open_browser: bool = False) -> None:
    def wait():
        target = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)
        for _ in range(600):
            try:
                with socket.create_connection((target, port), timeout=0.5):
                    print(f"leadsim page ready: {shown}  (Ctrl+C stops it)", flush=True)
                    if open_browser:
                        import webbrowser

                        webbrowser.open(shown)
                    return
            except OSError:
                time.sleep(0.1)

    threading.Thread(target=wait, daemon=True).start()


def guard(host: str, port: int) -> str:
    """Put the access gate in front of solara's server; return the address to share. Beyond
    loopback, that address carries a new random token, and a warning says who can reach it."""
    from . import gate

    os.environ["SOLARA_APP"] = APP  # solara registers the page when its server module is imported
    import solara.server.starlette as solara_server

    token = None if gate.is_loopback(host) else gate.new_token()
    solara_server.app.add_middleware(gate.AccessGate, hosts=gate.served_hosts(host), token=token)
    shown = gate.url(gate.public_address(host), port, token)
    if token:
        print(f"leadsim-viz: WARNING: listening on {host}, so other computers on this network can reach the page. "
              "Only those given the address below (it holds a one-time access token) can use it; "
              "stop the server when the session ends.", file=sys.stderr, flush=True)
    return shown


def main(argv=None) -> None:
    args = parse_args(argv)
    # offline: no usage telemetry and no version check (both would call out to the internet)
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    os.environ.setdefault("SOLARA_THEME_SHOW_BANNER", "False")  # its corner banner covered a plot
    # Widget updates queue up and go out together every 50 ms, instead of the thread that redraws
    # the page handing each one to the server's event loop and waiting for it: a frame of play
    # updates 16 widgets (34 in compare mode), and those waits took most of a frame's time on a busy
    # machine and held the page under 10 frames a second. The price is at most 50 ms more latency.
    os.environ.setdefault("SOLARA_EXPERIMENTAL_PERFORMANCE", "True")
    warnings.filterwarnings("ignore", message="Cookies with samesite=none")
    from . import assets

    if args.fetch_assets:
        assets.fetch(assets.missing())
        print("front-end files complete:", assets.cdn_dir())
        return
    if args.check:
        sys.exit(0 if preflight(args.host, args.port) else 1)
    if not assets.check_or_explain():
        sys.exit(2)
    print("leadsim-viz: loading the engine…", flush=True)
    warm_up()
    port = args.port or free_port(args.host)
    shown = guard(args.host, port)
    announce_when_ready(args.host, port, shown, open_browser=args.open)
    import solara.__main__ as solara_main

    # solara would announce the address it binds (http://0.0.0.0:…), not the one to share
    solara_main.rich = type("Quiet", (), {"print": staticmethod(lambda *args, **kwargs: None)})
    solara_main.cli.main(["run", APP, "--host", args.host, "--port", str(port), "--production", "--no-open",
              "--no-check-version", "--log-level-uvicorn", "warning"], prog_name="leadsim-viz")


if __name__ == "__main__":
    main()

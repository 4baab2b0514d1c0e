"""Frame rate of the browser page while playing (target: its cap of 10 frames a second at 500 members).

    uv run python benchmarks/viz_speed.py                 # 500 members, both measures
    uv run python benchmarks/viz_speed.py --members 1000 --seconds 10
    uv run python benchmarks/viz_speed.py --no-browser    # the server-side measure only
    uv run python benchmarks/viz_speed.py --uncapped      # play without the 10-a-second cap

Two measures, for one organisation and for compare mode (two organisations in lockstep):

- server: one frame's work in Python, a step of the model(s) plus the redraw of the page's
  widgets, timed through `solara.render` (no browser, no network). An upper bound on the rate.
- browser: the real page served by `leadsim-viz` in headless chromium (Debian's), playing with
  one step per frame. A MutationObserver counts how often the drawing's step changes in the DOM,
  i.e. frames that reached the screen, over `--seconds` as timed by the browser's clock.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

CHROMIUM = os.environ.get("LEADSIM_CHROMIUM", "/usr/bin/chromium")


def server_side(members: int, compare: bool, frames: int = 40) -> float:
    import ipyvuetify as v
    import solara

    from sim.viz.app import Page
    from sim.viz.live import Settings

    _, rc = solara.render(Page(Settings(n_members=members, compare=compare)), handle_error=False)
    step = next(w for w in rc.find(v.Btn).widgets if "Step" in w.children)
    for _ in range(5):  # warm: first frames compile and allocate
        step.click()
    start = time.perf_counter()
    for _ in range(frames):
        step.click()
    return frames / (time.perf_counter() - start)


def browser(members: int, compare: bool, seconds: float, url: str, page) -> tuple[float, int, float]:
    page.goto(url)
    page.locator(".leadsim-network circle.member-0").wait_for(timeout=60_000)
    if compare:
        page.get_by_role("button", name="compare", exact=True).click()
        page.locator(".leadsim-org-b .leadsim-network").wait_for()
    box = page.get_by_label("Members")
    box.fill(str(members))
    box.press("Enter")
    page.get_by_text(f"members {members}").first.wait_for(timeout=60_000)
    page.get_by_role("button", name="Play", exact=True).click()
    page.get_by_role("button", name="Pause", exact=True).wait_for()
    time.sleep(1.0)  # settle
    # The window is timed by the browser's clock, from the observer's start to the count's reading,
    # so that it is the span in which the frames were counted. Timed from here, it would also hold
    # the time a busy browser takes to answer the call that reads the count (up to 0.3 s).
    page.evaluate("""() => {
        window.__frames = 0;
        window.__since = performance.now();
        const target = document.querySelector('.leadsim-network');
        window.__observer = new MutationObserver(() => { window.__frames += 1; });
        window.__observer.observe(target, {attributes: true, attributeFilter: ['data-step']});
    }""")
    time.sleep(seconds)
    frames, elapsed = page.evaluate("() => [window.__frames, (performance.now() - window.__since) / 1000]")
    page.get_by_role("button", name="Pause", exact=True).click()
    return frames / elapsed, frames, elapsed


def start_server(uncapped: bool) -> tuple[subprocess.Popen, str]:
    from sim.viz.launch import free_port

    port = free_port("127.0.0.1")
    env = dict(os.environ, LEADSIM_VIZ_FRAME_SECONDS="0") if uncapped else None
    proc = subprocess.Popen([sys.executable, "-m", "sim.viz.launch", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        if "ready:" in line:
            return proc, f"http://127.0.0.1:{port}/"
    raise RuntimeError("leadsim-viz did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--uncapped", action="store_true",
                        help="play flat out instead of at most 10 frames a second, to find the ceiling")
    args = parser.parse_args()
    rows = []
    for compare in (False, True):
        rows.append(("server", compare, server_side(args.members, compare), None, None))
    if not args.no_browser:
        from playwright.sync_api import sync_playwright

        proc, url = start_server(args.uncapped)
        try:
            with sync_playwright() as pw:
                chromium = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                page = chromium.new_page(viewport={"width": 1600, "height": 1000})
                for compare in (False, True):
                    rows.append(("browser", compare, *browser(args.members, compare, args.seconds, url, page)))
                chromium.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    aim = "flat out" if args.uncapped else "the page aims at 10 frames a second"
    print(f"\n{args.members} members, one step per frame ({aim})")
    print(f"{'measure':<9} {'organisations':<14} {'frames/s':>9}")
    for where, compare, rate, frames, elapsed in rows:
        extra = f"  ({frames} frames in {elapsed:.2f} s)" if frames is not None else ""
        print(f"{where:<9} {'2 (compare)' if compare else '1':<14} {rate:>9.1f}{extra}")


if __name__ == "__main__":
    main()

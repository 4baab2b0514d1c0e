"""The participatory room in real browsers (Debian's chromium through Playwright), served by
`leadsim-room` itself, with every request that leaves this computer blocked: 30 participants on a
200-member organisation, 5 of them in real browser contexts at a phone's size and 25 protocol
clients (sim/room/client.py), for several rounds; the time from each round's close until every
participant has the next one must stay under a second. Then a reload, the end and the debrief.

Refresh the screenshots (docs/img/room-console.png, room-participant.png, room-debrief.png)
with `LEADSIM_UPDATE_SCREENSHOT=1 uv run pytest tests/test_room_browser.py`; they are also
written when missing.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from conftest import require_chromium

from sim.room.client import Bot, Served, round_latencies

IMG = Path(__file__).resolve().parents[1] / "docs" / "img"
SHOTS = {name: IMG / f"room-{name}.png" for name in ("console", "participant", "debrief")}
UPDATE = os.environ.get("LEADSIM_UPDATE_SCREENSHOT") == "1"
PHONE = {"width": 390, "height": 844}
BROWSERS, BOTS, ROUNDS = 5, 25, 6
TARGET = 1.0  # seconds from a round's close until all 30 participants see the next one
CLICK_ONE = """({round, pick}) => {
  if (document.getElementById('round').textContent !== 'Round ' + round) return false;
  const buttons = [...document.querySelectorAll('.task button:not([disabled]), .choices button')];
  if (!buttons.length) return false;
  buttons[Math.floor(pick * buttons.length)].click();
  return true;
}"""

require_chromium()


def offline_page(browser, base: str, viewport: dict, outside: list, failed: list):
    """A page in its own browser context (its own cookies: one participant), cut off from anything
    but the room's server."""
    context = browser.new_context(viewport=viewport, device_scale_factor=1)
    page = context.new_page()

    def route(r):
        if r.request.url.startswith(base):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("response", lambda response: failed.append(f"{response.status} {response.url}")
            if response.status >= 400 else None)
    page.on("pageerror", lambda exc: failed.append(f"script error: {exc}"))
    page.set_default_timeout(20_000)
    return page


def test_thirty_participants_five_in_browsers_see_each_round_within_a_second(browser, tmp_path):
    server = Served(tmp_path / "room", "--members", "200", "--timer", "20", "--seed", "2", "--steps-per-round", "3")
    outside, failed = [], []
    bots: list[Bot] = []
    try:
        console = offline_page(browser, server.base, {"width": 1600, "height": 1000}, outside, failed)
        console.goto(f"{server.base}/console?token={server.console_token}")
        console.locator("svg.org circle.m").first.wait_for()
        assert console.locator("svg.org circle.m").count() == 200
        assert console.locator("#code").inner_text() == f"{server.code[:4]}-{server.code[4:]}"
        assert console.locator("#qr svg").count() == 1  # the QR code, made on the server

        phones = []
        for i in range(BROWSERS):
            page = offline_page(browser, server.base, PHONE, outside, failed)
            page.goto(f"{server.base}/?token={server.code}")
            page.fill("#name", f"Phone {i}" if i else "Sam <b>")
            page.locator("form button").click()
            page.locator("#member").wait_for()
            assert "token=" in page.url and server.code not in page.url  # its own token, for a reload
            phones.append(page)
        bots = [Bot(server.base, server.code, f"Bot {i}", seed=i) for i in range(BOTS)]
        for bot in bots:
            bot.start()
        console.locator(".people li").nth(BROWSERS + BOTS - 1).wait_for()
        console.locator("#start").click()

        rng = random.Random(1)
        shot_phone, clicks = None, 0
        for number in range(1, ROUNDS + 1):
            for page in phones:
                page.wait_for_function("n => n in window.roomSeen", arg=number)
                if page.locator("#busy").count():
                    continue
                # the phone's screenshot: one that offers an open task (its four conditions), else any offer
                if shot_phone is None and (page.locator("[data-task]").count()
                                           or (number == ROUNDS and page.locator(".task").count())):
                    shot_phone = page
                    if UPDATE or not SHOTS["participant"].exists():
                        page.screenshot(path=SHOTS["participant"])
                # one of the buttons this round offers, picked and pressed in the page in one go: the
                # round may close meanwhile (the last of the others deciding), and the page redraw
                clicks += page.evaluate(CLICK_ONE, {"round": number, "pick": rng.random()})
            if number == ROUNDS and (UPDATE or not SHOTS["console"].exists()):
                console.screenshot(path=SHOTS["console"])
        for page in phones:
            page.wait_for_function("n => n in window.roomSeen", arg=ROUNDS + 1)

        seen = [{int(k): v / 1000 for k, v in page.evaluate("window.roomSeen").items()} for page in phones]
        seen += [bot.seen for bot in bots]
        closed = {r: t for bot in bots for r, t in bot.closed.items() if r <= ROUNDS + 1}
        latency = round_latencies(seen, closed)
        print("round latency, 30 participants (5 browsers), 200 members:",
              ", ".join(f"round {r}: {1000 * s:.0f} ms" for r, s in sorted(latency.items())))
        assert sorted(latency) == list(range(2, ROUNDS + 2)), "every participant saw every round"
        assert max(latency.values()) < TARGET
        assert not [e for bot in bots for e in bot.errors]
        assert sum(bot.decisions for bot in bots) >= ROUNDS * 5 and clicks >= ROUNDS

        # a reloaded browser gets its member back
        where = phones[1].locator(".where").inner_text()
        phones[1].reload()
        phones[1].locator("#member").wait_for()
        assert phones[1].locator(".where").inner_text().split(" · step")[0] == where.split(" · step")[0]

        # the projector highlights every participant's member, names escaped
        console.locator("svg.org g.player").nth(BROWSERS + BOTS - 1).wait_for(state="attached")
        assert console.locator("svg.org g.player").count() == BROWSERS + BOTS
        assert console.locator("svg.org text", has_text="Sam <b>").count() == 1
        assert console.locator("#plots svg.plot").count() == 6

        # the end: each phone shows its own summary; the debrief prints every participant
        console.once("dialog", lambda dialog: dialog.accept())
        console.locator("#end").click()
        for page in phones:
            page.locator("#summary").wait_for()
        debrief = console.context.new_page()
        debrief.goto(f"{server.base}/debrief")
        assert debrief.locator("section.person").count() == BROWSERS + BOTS
        assert debrief.get_by_text("Sam <b>").count() == 2  # in the overview and its own section, as text
        debrief.set_viewport_size({"width": 1100, "height": 1400})
        if UPDATE or not SHOTS["debrief"].exists():
            debrief.screenshot(path=SHOTS["debrief"])
        assert (tmp_path / "room" / "debrief" / "participants.csv").is_file()
    finally:
        for bot in bots:
            bot.halt.set()
        server.stop()
    assert outside == [], f"the pages asked for files from outside this computer: {outside}"
    assert failed == [], f"requests failed: {failed}"
    assert "Traceback" not in "".join(server.log), "".join(server.log)

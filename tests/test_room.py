"""The participatory room (sim/room): joining, rounds that close on the last decision or the
timer, refusals, leaving, interventions, the debrief, persistence and resume by replay; then the
server over real HTTP: tokens, the Host check, forged and malformed messages, reconnection, and a
server killed mid-round and restarted on the same folder.

Logic tests drive `Room` with a fake clock; HTTP tests run `leadsim-room` itself in a subprocess
(sim/room/client.py). The browser and the 30-participant load are in tests/test_room_browser.py.
"""

from __future__ import annotations

import http.client
import json
import random
import shutil

import numpy as np
import pandas as pd
import pytest

from sim import LeadershipModel
from sim.room import debrief
from sim.room.client import RoomClient, Served
from sim.room.room import MAX_NAME, Room, RoomError, RoomSettings, fingerprint, rule_decision

# A small, busy organisation: its participants see open tasks and invitations most rounds.
SMALL = dict(scenario="burnout", n_members=40, seed=3, steps_per_round=1)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_room(folder=None, **settings) -> tuple[Room, Clock]:
    clock = Clock()
    return Room(RoomSettings(**{**SMALL, **settings}), folder, clock=clock), clock


def play_round(room: Room, rng: random.Random, skip=()) -> None:
    """Every participant not in `skip` makes a choice its screen offers (rest if nothing else)."""
    for p in room.active:
        if p.busy or p.id in skip:
            continue
        view = room.participant_view(p)
        options = [("rest", None), ("wait", None)]
        if view["member"]["can_step_up"]:
            options += [("step_up", t["task_id"]) for t in view["open_tasks"]] * 3
        options += [(k, i["task_id"]) for i in view["invitations"] for k in ("join", "join", "decline")]
        kind, task = rng.choice(options)
        outcome = room.decide(p, kind, task, room.round)
        assert outcome["status"] == "accepted", outcome  # what the screen offers, the rule allows
        if room.round != view["room"]["round"]:
            return  # that was the last decision: the round closed


# ----- joining --------------------------------------------------------------------------------

def test_joining_gives_each_participant_its_own_member_member_0_first():
    room, _ = make_room()
    people = [room.join(f"P{i}") for i in range(8)]
    members = [p.member for p in people]
    assert members[0] == 0 and len(set(members)) == 8
    assert all(0 <= m < 40 for m in members)
    assert len({p.token for p in people}) == 8 and all(len(p.token) >= 20 for p in people)


def test_a_late_joiner_takes_a_free_member_and_one_who_leaves_hands_it_back_to_the_rules():
    room, clock = make_room()
    a, b = room.join("Ann"), room.join("Bo")
    room.start()
    late = room.join("Cy")  # joins mid-round: a free member, and the round now waits for it too
    assert late.member not in (a.member, b.member) and late.id in {p.id for p in room.active}
    room.leave(b)
    assert room.free_member(prefer=b.member) == b.member  # free again: the rules play it
    clock.advance(25)
    assert room.tick()
    assert {r["member"] for r in room.rounds[-1]["players"]} == {a.member, late.member}
    assert all(e["member"] != b.member for e in room.model.decision_log)
    back = room.join("Bo again", token=b.token)  # the same token: the same participant, its member if free
    assert back is b and b.active and b.member == b.members[0] and b.name == "Bo again"


def test_names_are_cleaned_and_bounded_and_the_room_is_bounded():
    room, _ = make_room(n_members=12)
    assert room.join("  Ann\u0000\n  Lee\u202e ").name == "Ann Lee"
    assert len(room.join("x" * 500).name) == MAX_NAME
    for bad in ("", "   ", "\u0007", None, 42):
        with pytest.raises(RoomError):
            room.join(bad)
    for i in range(10):
        room.join(f"P{i}")
    with pytest.raises(RoomError, match="already played"):  # 12 members, 12 participants
        room.join("one too many")
    with pytest.raises(RoomError, match="members"):
        RoomSettings(n_members=1_000_000).validate()


# ----- rounds -----------------------------------------------------------------------------------

def test_a_round_closes_as_soon_as_everyone_has_decided():
    room, _ = make_room()
    people = [room.join(f"P{i}") for i in range(5)]
    room.start()
    rng = random.Random(1)
    for _ in range(6):
        before = room.round
        play_round(room, rng)
        if any(not p.busy for p in room.active) and room.round == before:  # everyone busy: the timer runs
            pytest.fail("the round did not close when everyone had decided")
    assert len(room.rounds) >= 4
    record = room.rounds[-1]
    assert {r["participant"] for r in record["players"]} == {p.id for p in people}
    assert all(r["left_to_rule"] is None for r in record["players"])


def test_a_round_closes_when_the_timer_runs_out_and_the_rule_plays_the_undecided():
    room, clock = make_room(timer=20)
    people = [room.join(f"P{i}") for i in range(4)]
    room.start()
    free = [p for p in people if not p.busy]
    assert len(free) >= 2
    room.decide(free[0], "rest", None, 1)
    clock.advance(19.9)
    assert not room.tick() and room.round == 1
    clock.advance(0.2)
    assert room.tick() and room.round == 2 and room.model.steps == 1
    by = {r["participant"]: r for r in room.rounds[0]["players"]}
    assert by[free[0].id]["choice"] == "rest" and by[free[0].id]["left_to_rule"] is None
    assert all(by[p.id]["left_to_rule"] == "timeout" and by[p.id]["agreed"] is None for p in free[1:])
    assert [e["member"] for e in room.rounds[0]["decisions"]] == [free[0].member]  # only the decided reach the model


def test_stepping_up_is_refused_in_the_heroic_regime_and_changes_nothing():
    room, clock = make_room(regime="heroic")
    people = [room.join(f"P{i}") for i in range(5)]
    room.start()
    open_tasks = np.flatnonzero(room.model.state.task_status[: room.model.state.n_tasks] == 0)
    task = int(room.model.state.task_id[open_tasks[0]]) if len(open_tasks) else 0
    p = next(p for p in people if not p.busy)
    before = (room.participant_view(p)["you"]["decided"], len(room.model.decision_log), room.round)
    outcome = room.decide(p, "step_up", task, room.round)
    assert outcome["status"] == "refused" and "wait to be appointed" in outcome["reason"]
    assert p.choice is None and (p.decided, len(room.model.decision_log), room.round) == before
    assert "Not possible" in room.participant_view(p)["you"]["feedback"]
    assert room.participant_view(p)["member"]["can_step_up"] is False
    assert room.decide(p, "wait", None, room.round)["status"] == "accepted"  # waiting to be appointed is fine


def test_a_decision_for_a_closed_round_or_another_member_is_an_error_and_changes_nothing():
    room, _ = make_room()
    a, b = room.join("A"), room.join("B")
    room.start()
    log = len(room.model.decision_log)
    with pytest.raises(RoomError, match="not open"):
        room.decide(a, "rest", None, room.round + 1)
    with pytest.raises(RoomError, match="own member") as refused:
        room.decide(a, "rest", None, room.round, member=b.member)
    assert refused.value.status == 403
    for kind, task in (("lead", None), ("step_up", "3"), ("join", True), ("rest", 4), ("decline", None)):
        with pytest.raises(RoomError):
            room.decide(a if not a.busy else b, kind, task, room.round)
    assert a.choice is None and b.choice is None and len(room.model.decision_log) == log


def test_pause_holds_the_round_and_next_round_closes_it():
    room, clock = make_room()
    people = [room.join(f"P{i}") for i in range(3)]
    room.start()
    room.pause()
    clock.advance(100)
    for p in people:
        if not p.busy:
            room.decide(p, "rest", None, room.round)
    assert not room.tick() and room.round == 1  # paused: neither the timer nor the last decision closes it
    room.next_round()
    assert room.round == 2 and room.phase == "paused" and room.model.steps == 1
    room.resume()
    assert room.phase == "open" and room.seconds_left() > 0


def test_a_round_of_several_steps_holds_a_rest_for_every_step():
    room, _ = make_room(steps_per_round=3)
    p = room.join("A")
    room.start()
    while p.busy:
        room.next_round()
    room.decide(p, "rest", None, room.round)
    steps = room.rounds[-1]["first_step"] + np.arange(1, 4)
    rests = [e for e in room.rounds[-1]["decisions"] if e["member"] == p.member]
    assert [e["step"] for e in rests] == steps.tolist() and {e["status"] for e in rests} == {"accepted"}


def test_the_leader_leaving_tells_member_0s_participant_who_can_take_another_member():
    room, _ = make_room()
    hero = room.join("Hero")
    other = room.join("Other")
    room.start()
    assert hero.member == 0
    room.intervene("leader_leaves")
    view = room.participant_view(hero)
    assert view["member"]["status"] == "gone" and hero.busy
    assert "member 0" in view["you"]["notice"] and "left" in view["you"]["notice"]
    assert "left" not in (other.notice or "")
    with pytest.raises(RoomError, match="already left"):
        room.intervene("leader_leaves")
    with pytest.raises(RoomError, match="still in the organisation"):  # nobody shops for a better member
        room.switch_member(other)
    room.switch_member(hero)
    assert hero.member not in (0, other.member) and hero.members == [0, hero.member]


def test_a_regime_switch_drops_a_step_up_that_no_longer_holds():
    room, _ = make_room()
    people = [room.join(f"P{i}") for i in range(10)]
    room.start()
    rng = random.Random(4)
    stepping = None
    for _ in range(30):
        stepping = next((p for p in people if not p.busy and room.participant_view(p)["open_tasks"]), None)
        if stepping:
            break
        play_round(room, rng)
    assert stepping is not None, "no participant saw an open task in 30 rounds"
    task = room.participant_view(stepping)["open_tasks"][0]["task_id"]
    assert room.decide(stepping, "step_up", task, room.round)["status"] == "accepted"
    room.intervene("regime", "hierarchical")
    assert stepping.choice is None and "no longer holds" in stepping.feedback
    assert room.regime == "hierarchical" and "hierarchical" in room.participant_view(stepping)["you"]["notice"]


# ----- the debrief -----------------------------------------------------------------------------

def test_a_participant_who_always_does_what_the_rule_would_agrees_every_time():
    room, _ = make_room()
    follower, contrarian = room.join("Follower"), room.join("Contrarian")
    room.start()
    agreed_kinds = set()
    for _ in range(25):
        for p in (follower, contrarian):
            if p.busy or p.choice:
                continue
            rule = rule_decision(room.rule[p.member])
            if p is follower:
                kind = rule["kind"] if rule["kind"] != "none" else "rest"
                room.decide(p, kind, rule["task_id"], room.round)
                agreed_kinds.add(kind)
            else:
                room.decide(p, "wait", None, room.round)
        if room.phase == "open" and all(p.decided for p in room.active):
            continue
        room.next_round()
    table = debrief.participants(room).set_index("name")
    assert table.loc["Follower", "own_decisions"] >= 5
    assert table.loc["Follower", "agreement"] == 1.0
    assert table.loc["Contrarian", "own_decisions"] == 0 and table.loc["Contrarian", "waited"] >= 5
    assert np.isnan(table.loc["Contrarian", "agreement"])
    decisions = debrief.decisions(room)
    assert set(decisions.columns) >= {"decision", "rule_decision", "agreed", "energy_after"}


def test_the_debrief_exports_every_table_and_escapes_names(tmp_path):
    room, _ = make_room()
    room.join("<script>alert(1)</script>")
    room.join("Ann & Bo")
    room.start()
    play_round(room, random.Random(2))
    room.next_round()
    room.end()
    written = debrief.export(room, tmp_path)
    assert {p.name for p in written} == {f"{n}.csv" for n in debrief.TABLES} | {"debrief.html"}
    groups = pd.read_csv(tmp_path / "groups.csv")
    assert list(groups["group"]) == ["played by the room", "played by the rules"]
    assert groups["members"].sum() == 40
    assert len(pd.read_csv(tmp_path / "metrics.csv")) == room.model.steps + 1
    page = (tmp_path / "debrief.html").read_text()
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Ann &amp; Bo" in page
    from sim.room import drawing

    assert "<script>" not in drawing.organisation(room)


# ----- persistence and resume ----------------------------------------------------------------

def test_a_room_reloaded_from_its_folder_is_the_same_organisation_with_the_same_participants(tmp_path):
    room, clock = make_room(tmp_path / "room", regime="distributed")
    people = [room.join(f"P{i}") for i in range(6)]
    room.start()
    rng = random.Random(3)
    for number in range(12):
        play_round(room, rng, skip={"p2"})
        if number == 4:
            room.intervene("regime", "hierarchical")
        if number == 7:
            room.intervene("shock")
            room.leave(people[3])
        clock.advance(30)
        room.tick()
    room.decide(people[0], "rest", None, room.round) if not people[0].busy else None  # lost: round not completed
    assert (tmp_path / "room").stat().st_mode & 0o077 == 0  # private: it holds the tokens
    again = Room.load(tmp_path / "room", clock=clock)
    assert again.round == len(room.rounds) + 1 == room.round and again.phase == "open"
    assert again.code == room.code and again.console_token == room.console_token
    assert fingerprint(again.model) == fingerprint(room.model) and again.regime == "hierarchical"
    for name in ("energy", "autonomy", "task_of", "tie_trust", "led_count"):
        np.testing.assert_array_equal(getattr(again.model.state, name), getattr(room.model.state, name))
    pd.testing.assert_frame_equal(again.model.metrics(), room.model.metrics())
    assert [(p.id, p.name, p.member, p.active) for p in again.participants.values()] == \
           [(p.id, p.name, p.member, p.active) for p in room.participants.values()]
    assert again.participant(people[1].token).member == people[1].member
    assert all(p.choice is None for p in again.participants.values())  # the open round is played again
    pd.testing.assert_frame_equal(debrief.decisions(again), debrief.decisions(room))


def test_the_room_is_the_model_replayed_from_its_seed_and_accepted_decisions(tmp_path):
    """Without interventions, LeadershipModel's own replay (config + accepted decisions) gives the
    room's organisation: the room adds nothing the model's log does not hold."""
    room, clock = make_room()
    [room.join(f"P{i}") for i in range(6)]
    room.start()
    rng = random.Random(5)
    for _ in range(15):
        play_round(room, rng)
        clock.advance(30)
        room.tick()
    assert len(room.model.accepted_decisions()) >= 10
    again = LeadershipModel(config=room.model.cfg, decisions=room.model.accepted_decisions())
    for _ in range(room.model.steps):
        again.step()
    pd.testing.assert_frame_equal(again.metrics(), room.model.metrics())


def test_a_tampered_round_file_is_refused_on_resume(tmp_path):
    room, clock = make_room(tmp_path / "room")
    [room.join(f"P{i}") for i in range(4)]
    room.start()
    for _ in range(3):
        clock.advance(30)
        room.tick()
    path = tmp_path / "room" / "rounds" / "000002.json"
    record = json.loads(path.read_text())
    record["interventions"].append({"after_step": record["first_step"], "kind": "shock", "arg": None})
    path.write_text(json.dumps(record))
    with pytest.raises(RoomError, match="does not reproduce"):
        Room.load(tmp_path / "room", clock=clock)


# ----- over HTTP -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def served(tmp_path_factory):
    server = Served(tmp_path_factory.mktemp("room") / "room", "--scenario", "burnout", "--members", "40",
                    "--seed", "3", "--timer", "0", "--steps-per-round", "1")
    yield server
    server.stop()
    assert "Traceback" not in "".join(server.log), "".join(server.log)


def raw(served: Served, path: str, method: str = "GET", body: bytes | None = None, headers: dict | None = None):
    """(status, text) of one request with exactly these headers: no token unless given."""
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    return response.status, response.read().decode()


def test_requests_without_a_valid_token_get_403(served):
    for path in ("/", "/static/room.css", "/api/me", "/console", "/api/console", "/debrief", "/export/decisions.csv",
                 "/?token=WRONGCODE", f"/console?token={served.code}x"):
        status, _ = raw(served, path)
        assert status == 403, path
    status, _ = raw(served, "/api/control", "POST", json.dumps({"action": "end"}).encode())
    assert status == 403
    assert raw(served, f"/?token={served.code}")[0] == 200
    assert raw(served, f"/?token={served.code[:4]}-{served.code[4:].lower()}")[0] == 200  # as typed off a screen


def test_a_foreign_host_name_gets_403_even_with_the_token(served):
    status, text = raw(served, f"/?token={served.code}", headers={"Host": f"attacker.example:{served.port}"})
    assert status == 403 and "host" in text
    status, _ = raw(served, f"/console?token={served.console_token}", headers={"Host": "evil.test"})
    assert status == 403


def test_the_room_code_opens_the_join_page_only_and_a_participant_token_its_own_member_only(served):
    guest = RoomClient(served.base, served.code)
    assert guest.request("GET", "/api/console")[0] == 403
    assert guest.request("POST", "/api/decide", {"round": 1, "kind": "rest"})[0] == 403
    assert guest.request("POST", "/api/control", {"action": "start"})[0] == 403
    ann, bo = RoomClient(served.base, served.code), RoomClient(served.base, served.code)
    ann.join("Ann")
    bo.join("Bo")
    player_only = RoomClient(served.base, cookies={"leadsim_player": ann.token})
    assert player_only.request("GET", "/api/me")[1]["you"]["member"] == ann.view["you"]["member"]
    assert player_only.request("GET", "/api/console")[0] == 403
    assert player_only.request("GET", "/export/members.csv")[0] == 403
    status, data = ann.decide("rest", member=bo.view["you"]["member"])
    assert status == 403 and "own member" in data["error"]


def test_forged_or_malformed_messages_get_an_error_and_change_nothing(served):
    console = served.console()
    alice = RoomClient(served.base, served.code)
    alice.join("Alice")
    state = console.request("GET", "/api/console")[1]
    if state["phase"] == "lobby":
        console.request("POST", "/api/control", {"action": "start"})
    before_me = alice.request("GET", "/api/me")[1]
    before = console.request("GET", "/api/console")[1]
    headers = {"cookie": f"leadsim_player={alice.token}", "content-type": "application/json"}
    cases = [
        ("POST", "/api/decide", b"not json", 400), ("POST", "/api/decide", b"[1, 2]", 400),
        ("POST", "/api/decide", json.dumps({"round": before["round"], "kind": "rest", "x": "y" * 5000}).encode(), 413),
        ("POST", "/api/decide", json.dumps({"round": before["round"], "kind": "launch"}).encode(), 400),
        ("POST", "/api/decide", json.dumps({"round": before["round"], "kind": "rest", "admin": True}).encode(), 400),
        ("POST", "/api/decide", json.dumps({"round": before["round"], "kind": "step_up", "task_id": "1"}).encode(), 400),
        ("POST", "/api/decide", json.dumps({"round": before["round"] + 5, "kind": "rest"}).encode(), 409),
        ("POST", "/api/decide", json.dumps({"round": str(before["round"]), "kind": "rest"}).encode(), 409),
        ("POST", "/api/join", json.dumps({"name": ["a"]}).encode(), 400),
        ("POST", "/api/control", json.dumps({"action": "end"}).encode(), 403),
        ("GET", "/static/../room.py", None, 404), ("GET", "/export/../../room.json.csv", None, 404),
    ]
    for method, path, body, expected in cases:
        conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode()
        assert response.status == expected, (path, body, response.status, text)
        if path.startswith("/api/") and response.status != 403:
            assert "error" in json.loads(text) and "Traceback" not in text
    after_me = alice.request("GET", "/api/me")[1]
    after = console.request("GET", "/api/console")[1]
    assert after_me["you"] == before_me["you"]
    assert (after["round"], after["step"], after["n_decided"], after["phase"]) == \
           (before["round"], before["step"], before["n_decided"], before["phase"])


def test_a_reloaded_browser_gets_its_member_back(served):
    ann = RoomClient(served.base, served.code)
    ann.join("Reloader")
    member = ann.view["you"]["member"]
    # a fresh browser with only the address the page shows after joining: /?token=<participant token>
    fresh = RoomClient(served.base)
    status, _ = fresh.request("GET", f"/?token={ann.token}")
    assert status == 200
    status, data = RoomClient(served.base, cookies={"leadsim_player": ann.token}).request("GET", "/api/me")
    assert status == 200 and data["you"]["member"] == member and data["you"]["name"] == "Reloader"
    # joining again with its own token keeps the participant and its member
    again = RoomClient(served.base, served.code)
    again.token = ann.token
    assert again.join("Reloader")["you"]["member"] == member


def test_a_killed_server_resumes_at_the_last_completed_round_and_participants_reconnect(tmp_path):
    folder = tmp_path / "room"
    server = Served(folder, "--scenario", "burnout", "--members", "40", "--seed", "7", "--timer", "0")
    try:
        people = [RoomClient(server.base, server.code) for _ in range(4)]
        for i, p in enumerate(people):
            p.join(f"P{i}")
        console = server.console()
        console.request("POST", "/api/control", {"action": "start"})
        console.request("POST", "/api/control", {"action": "pause"})  # only "next round" closes a round
        rng = random.Random(7)
        for _ in range(5):
            for p in people:
                p.poll()
                choice = p.choice(rng)
                if choice:
                    p.decide(*choice)
            console.request("POST", "/api/control", {"action": "next"})
        state = console.request("GET", "/api/console")[1]
        completed = state["rounds_completed"]
        assert completed == 5
        views = [p.poll() for p in people]
        for p in people:  # decisions in the open round: lost with the kill, to be made again
            choice = p.choice(rng)
            if choice:
                p.decide(*choice)
        server.kill()
        shutil.copytree(folder, tmp_path / "copy")
        server = Served(folder, port=server.port)
        for p, before in zip(people, views):
            p.close()
            after = p.poll()
            assert after["you"]["member"] == before["you"]["member"] and after["you"]["name"] == before["you"]["name"]
            assert after["room"]["round"] == completed + 1 and after["room"]["step"] == before["room"]["step"]
            assert after["member"] == before["member"]  # the same organisation, to the last bit
            assert after["you"]["choice"] is None and after["room"]["phase"] == "paused"
        assert server.code == json.loads((tmp_path / "copy" / "room.json").read_text())["code"]
        status, data = people[0].request("GET", "/api/me")
        assert status == 200
        console = server.console()
        assert console.request("GET", "/api/console")[1]["rounds_completed"] == completed
    finally:
        server.stop()
    replayed = Room.load(tmp_path / "copy")
    assert len(replayed.rounds) == completed and replayed.model.steps == 3 * completed  # 3 steps a round


def test_listening_on_every_interface_warns_and_shares_the_lan_address(tmp_path):
    from sim.viz.gate import lan_addresses

    lan = lan_addresses()
    if not lan:
        pytest.skip("this machine has no network address")
    server = Served(tmp_path / "room", "--members", "30", host="0.0.0.0")
    try:
        log = "".join(server.log)
        assert "WARNING: listening on 0.0.0.0" in log
        shared = f"http://{lan[0]}:{server.port}/?token={server.code}"
        assert f"participants join at:  {shared}" in log
        assert f"http://127.0.0.1:{server.port}/console?token={server.console_token}" in log
        assert "▀" in log or "▄" in log  # the QR code, in the terminal
        phone = RoomClient(f"http://{lan[0]}:{server.port}", server.code)  # as a phone on the network
        assert phone.join("Phone")["you"]["member"] == 0
        assert server.console().request("GET", "/api/console")[1]["join_address"] == shared
    finally:
        server.stop()


def test_news_shows_for_its_round_and_the_next_then_clears():
    room, clock = make_room()
    p = room.join("A")
    room.start()
    room.intervene("shock")
    assert "shock" in room.participant_view(p)["room"]["notice"]
    room.next_round()
    assert "shock" in room.participant_view(p)["room"]["notice"]
    room.next_round()
    assert room.participant_view(p)["room"]["notice"] == ""


def test_ending_before_any_round_still_gives_a_debrief(tmp_path):
    room, _ = make_room()
    room.join("Early")
    room.end()
    written = debrief.export(room, tmp_path)
    assert len(written) == len(debrief.TABLES) + 1
    assert "made no decisions" in (tmp_path / "debrief.html").read_text()
    assert room.participant_view(next(iter(room.participants.values())))["summary"]["rounds"] == 0

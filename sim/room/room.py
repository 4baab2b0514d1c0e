"""The room: one organisation, the participants who play some of its members, and the rounds.

A round is one or a few model steps. While a round is open, each participant sees what its member
sees (`LeadershipModel.view`) and decides: step up to lead a task, join or decline an invitation,
rest, or wait (leave this round to the rule). A round closes when every participant with something
to decide has decided, or when the timer runs out; whoever has not decided is played by the rule,
so the room never stalls. A participant's choice is checked at once with the model's own rule
(`sim.players.refusal`), so a refusal is shown while the round is open; the final choices reach the
model (`LeadershipModel.decide`) when the round closes, which validates them again.

Persistence, for a server killed mid-session: the folder holds `room.json` (settings, the room's
tokens and participants, written at every change) and one `rounds/NNNNNN.json` per completed round
(its interventions, the model's decision log for its steps, each participant's choice beside the
rule's, and a fingerprint of the state after it), each written atomically. `Room.load` rebuilds
the organisation from its seed by replaying the rounds (interventions, then the accepted decisions,
then the steps), checks each fingerprint, and resumes after the last completed round. The folder
is private (0700): it holds the tokens.

Nothing here knows about the web: the server (sim/room/server.py) calls these methods from one
thread (its event loop), and `tick` closes a round whose time is up.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import players
from ..agents import status_of
from ..config import REGIMES
from ..run import write_atomic
from ..viz import scenarios
from ..viz.live import MAX_MEMBERS, LiveOrg, Settings, describe, model_params

ORGS = ("flat", "hierarchy", "teams", "star")  # the page's structures, less an uploaded chart
MAX_PARTICIPANTS = 100
MAX_NAME = 40  # characters of a participant's name
MAX_STEPS_PER_ROUND = 10
MAX_TIMER = 600  # seconds
IDLE_ROUND_SECONDS = 3.0  # a round in which nobody has anything to decide still shows on screens
SHOWN_TASKS = 6  # open tasks on a participant's screen, best-scoring first
MODEL_KINDS = players.KINDS  # step_up, join, decline, rest: these reach the model
KINDS = (*MODEL_KINDS, "wait")  # wait: no decision of one's own, the rule plays the member
HELD = ("rest", "decline")  # held for every step of a multi-step round; the others act in its first
EVENTS = ("leader_leaves", "shock", "regime")
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read off a projector and typed
CODE_LENGTH = 8
ROOM_FILE = "room.json"
ROUNDS_DIR = "rounds"
FORMAT = 1


class RoomError(Exception):
    """A request the room refuses; the message is for the person who made it. `status` is the
    HTTP status the server answers with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normal_code(text: str) -> str:
    """A room code as typed: case, dashes and spaces do not matter."""
    return re.sub(r"[\s-]", "", str(text)).upper()


def shown_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def clean_name(raw) -> str:
    """A participant's name: printable characters only, whitespace collapsed, at most MAX_NAME."""
    if not isinstance(raw, str):
        raise RoomError("a name is text")
    text = "".join(ch for ch in unicodedata.normalize("NFC", raw) if unicodedata.category(ch)[0] != "C")
    text = " ".join(text.split())[:MAX_NAME].strip()
    if not text:
        raise RoomError("enter a name (up to 40 characters)")
    return text


@dataclass
class RoomSettings:
    """What the facilitator chooses at start, as on the page. `regime` is the regime at the start
    (a live switch is an intervention, replayed); `steps_per_round` and `timer` may change live."""

    scenario: str = "default"
    regime: str = "distributed"
    org: str = "flat"
    n_members: int = 200
    seed: int = 1
    steps_per_round: int = 3  # 8 minutes of play, 25-50 rounds, then cover 75-150 steps
    timer: float = 20.0  # seconds; 0: no timer, a round waits for everyone or for "next round"

    def validate(self) -> "RoomSettings":
        try:
            scenarios.by_name(self.scenario)
        except KeyError as exc:
            raise RoomError(str(exc.args[0])) from None
        if self.regime not in REGIMES:
            raise RoomError(f"regime {self.regime!r} is not one of {', '.join(REGIMES)}")
        if self.org not in ORGS:
            raise RoomError(f"org {self.org!r} is not one of {', '.join(ORGS)}")
        if not 2 <= int(self.n_members) <= MAX_MEMBERS:
            raise RoomError(f"members = {self.n_members} is out of range; allowed [2, {MAX_MEMBERS}]")
        if not 1 <= int(self.steps_per_round) <= MAX_STEPS_PER_ROUND:
            raise RoomError(f"steps per round = {self.steps_per_round}; allowed [1, {MAX_STEPS_PER_ROUND}]")
        if not (math.isfinite(float(self.timer)) and 0 <= float(self.timer) <= MAX_TIMER):
            raise RoomError(f"timer = {self.timer} s; allowed [0, {MAX_TIMER}] (0: no timer)")
        return self

    def model_params(self) -> dict:
        """LeadershipModel's keywords, exactly as the page builds them from the same choices."""
        return model_params(Settings(scenario=self.scenario, regime=self.regime, org=self.org,
                                     n_members=int(self.n_members), seed=int(self.seed)), self.regime)


@dataclass
class Participant:
    id: str  # p1, p2, ... in order of joining
    name: str
    token: str
    member: int | None = None
    active: bool = True
    joined_round: int = 0
    members: list[int] = field(default_factory=list)  # every member it has played, in order
    # this round (not saved: a round that did not complete is played again)
    choice: dict | None = None  # {"kind", "task_id"} once decided
    busy: bool = False  # its member has nothing to decide this round
    feedback: str = ""
    notice: str = ""
    version: int = 0  # bumped whenever what this participant sees changes

    def saved(self) -> dict:
        return {"id": self.id, "name": self.name, "token": self.token, "member": self.member,
                "active": self.active, "joined_round": self.joined_round, "members": self.members}

    @property
    def decided(self) -> bool:
        return self.busy or self.choice is not None


def fingerprint(model) -> str:
    """A short digest of the organisation (members, live tasks, the market, the regime): a replay
    must reproduce it exactly."""
    s, digest = model.state, hashlib.sha256()
    for name in ("energy", "autonomy", "task_of", "role_lead", "led_count", "gone"):
        digest.update(np.ascontiguousarray(getattr(s, name)[: s.n]).tobytes())
    for name in ("task_id", "task_status", "value"):
        digest.update(np.ascontiguousarray(getattr(s, name)[: s.n_tasks]).tobytes())
    digest.update(np.ascontiguousarray(s.demand).tobytes())
    digest.update(f"{int(model.steps)} {int(s.regime)} {int(s.next_task_id)}".encode())
    return digest.hexdigest()[:16]


def rule_decision(rule: dict) -> dict:
    """The rule's choice for a member in the terms of a participant's: it steps up (a task),
    joins (the first invitation it would accept), or neither."""
    if rule.get("kind") == "step_up":
        return {"kind": "step_up", "task_id": rule["task_id"]}
    for invite in rule.get("invitations", ()):
        if invite["accepts"]:
            return {"kind": "join", "task_id": invite["task_id"]}
    return {"kind": "none", "task_id": None}


def same_choice(choice: dict, rule: dict) -> bool:
    """A participant's own choice agrees with the rule's when both lead the same task, both join
    the same team, or neither does (rest and decline are "neither")."""
    kind = choice["kind"] if choice["kind"] in ("step_up", "join") else "none"
    return kind == rule["kind"] and (kind == "none" or choice["task_id"] == rule["task_id"])


class Room:
    """See the module's docstring. `clock` gives seconds (monotonic); tests pass their own."""

    def __init__(self, settings: RoomSettings | None = None, folder: str | Path | None = None, clock=time.monotonic,
                 _saved: dict | None = None):
        self.settings = (settings or RoomSettings()).validate()
        self.clock = clock
        self.folder = Path(folder) if folder is not None else None
        self.code = _saved["code"] if _saved else new_code()
        self.console_token = _saved["console_token"] if _saved else secrets.token_urlsafe(16)
        self.org = LiveOrg("room", self.settings.model_params())
        self.model = self.org.model
        gen = np.random.default_rng([int(self.settings.seed), 4_242])
        # who joins gets the next free member in this order: member 0, the designated leader, first
        self.member_order = [0, *(1 + gen.permutation(self.model.state.n - 1)).tolist()]
        self.participants: dict[str, Participant] = {}
        self._by_token: dict[str, Participant] = {}
        self.phase = "lobby"  # lobby, open (a round is open, its timer running), paused, ended
        self.round = 0  # the open round, or the last one
        self.rounds: list[dict] = []  # completed rounds' records
        self.interventions: list[dict] = []  # this round's, saved with it
        self.deadline: float | None = None  # clock time the open round closes
        self.remaining: float | None = None  # seconds left when paused
        self.round_started_step = 0
        self.closed_at: float | None = None  # wall-clock time the last round closed (for latency)
        self.views: dict[int, dict] = {}  # member -> model.view(member) for this round
        self.rule: dict[int, dict] = {}  # member -> model.rule_choice(member) for this round
        self.version = 0  # bumped by every change participants see: rounds, phase, interventions
        self.console_version = 0  # bumped by every change at all
        self.notice = ""  # the room's latest news, for everyone, shown for the rest of its round and the next
        self.notice_round = 0
        self.group_energy: list[tuple[int, float, float, float, float]] = []  # step, room/rest energy, autonomy
        self._replay_members: set[int] | None = None  # during a replay: who held members in that round
        self._record_groups()
        if _saved is None and self.folder is not None:
            self._make_folder()
            self.save()

    # ----- participants ----------------------------------------------------------------------
    def participant(self, token: str | None) -> Participant | None:
        if not token or not isinstance(token, str):
            return None
        p = self._by_token.get(token)
        return p if p is not None and secrets.compare_digest(p.token, token) else None

    @property
    def active(self) -> list[Participant]:
        return [p for p in self.participants.values() if p.active]

    def held_members(self) -> set[int]:
        return {p.member for p in self.active if p.member is not None}

    def free_member(self, prefer: int | None = None) -> int | None:
        s, held = self.model.state, self.held_members()
        candidates = ([prefer] if prefer is not None else []) + self.member_order
        for m in candidates:
            if m < s.n and not s.gone[m] and m not in held:
                return int(m)
        return None

    def join(self, name, token: str | None = None) -> Participant:
        """A new participant with the next free member; or, with the token of one who left, that
        participant back (with its old member, if still free)."""
        if self.phase == "ended":
            raise RoomError("the session has ended", 409)
        name = clean_name(name)
        p = self.participant(token)
        if p is not None and p.active:
            p.name = name
            self._touch(p)
            self.save()
            return p
        if len(self.active) >= MAX_PARTICIPANTS:
            raise RoomError(f"the room is full ({MAX_PARTICIPANTS} participants)", 409)
        member = self.free_member(prefer=p.member if p is not None else None)
        if member is None:
            raise RoomError("every member of the organisation is already played by someone", 409)
        if p is None:
            p = Participant(id=f"p{len(self.participants) + 1}", name=name, token=secrets.token_urlsafe(16))
            self.participants[p.id] = p
            self._by_token[p.token] = p
        p.name, p.active, p.joined_round = name, True, self.round
        self._give(p, member)
        self.save()
        return p

    def leave(self, p: Participant) -> None:
        """The participant goes; its member is played by the rules again."""
        if not p.active:
            return
        p.active, p.choice, p.busy = False, None, False
        p.feedback = ""
        self._touch(p)
        self.save()
        self._close_if_all_decided()

    def switch_member(self, p: Participant) -> Participant:
        """Take another free member (when one's own has left the organisation)."""
        if not p.active:
            raise RoomError("you have left the room; join again", 409)
        if p.member is not None and not self.model.state.gone[p.member]:
            raise RoomError("your member is still in the organisation: play on", 409)
        member = self.free_member()
        if member is None:
            raise RoomError("no free member left", 409)
        self._give(p, member)
        self.save()
        return p

    def _give(self, p: Participant, member: int) -> None:
        p.member = member
        if not p.members or p.members[-1] != member:
            p.members.append(member)
        p.choice, p.feedback, p.notice = None, "", ""
        if self.phase in ("open", "paused"):
            self._refresh([member])
        self._touch(p)

    def _touch(self, p: Participant | None = None) -> None:
        if p is not None:
            p.version += 1
        self.console_version += 1

    # ----- the facilitator's controls ---------------------------------------------------------
    def start(self) -> None:
        if self.phase == "lobby":
            self._open_round()
        elif self.phase == "paused":
            self.resume()
            return
        elif self.phase == "ended":
            raise RoomError("the session has ended", 409)
        self.save()

    def pause(self) -> None:
        """Stop the clock: the round stays open, decisions still count, nothing closes it but
        "next round" or "resume"."""
        if self.phase != "open":
            raise RoomError("no round is running", 409)
        self.remaining = None if self.deadline is None else max(0.0, self.deadline - self.clock())
        self.phase, self.deadline = "paused", None
        self._changed()
        self.save()

    def resume(self) -> None:
        if self.phase != "paused":
            raise RoomError("the room is not paused", 409)
        self.phase = "open"
        left = self.remaining if self.remaining is not None else self._round_seconds()
        self.deadline = None if left is None else self.clock() + max(left, 1.0)
        self.remaining = None
        self._changed()
        self.save()
        self._close_if_all_decided()

    def next_round(self) -> None:
        """Close the open round now (whoever has not decided is played by the rule)."""
        if self.phase not in ("open", "paused"):
            raise RoomError("no round is open", 409)
        self._close_round()

    def end(self) -> None:
        """The end: the open round is not played; the debrief covers the completed rounds."""
        if self.phase == "ended":
            return
        self.phase, self.deadline, self.remaining = "ended", None, None
        for p in self.participants.values():
            p.choice, p.busy = None, False
            self._touch(p)
        self.notice, self.notice_round = "The session has ended.", self.round
        self._changed()
        self.save()

    def set_timer(self, seconds) -> None:
        seconds = _number(seconds, "the timer")
        dataclasses.replace(self.settings, timer=seconds).validate()
        self.settings.timer = float(seconds)
        if self.phase == "open":
            self.deadline = self._deadline()
        self._changed()
        self.save()

    def set_steps_per_round(self, steps) -> None:
        steps = _number(steps, "steps per round")
        if steps != int(steps):
            raise RoomError("steps per round is a whole number")
        dataclasses.replace(self.settings, steps_per_round=int(steps)).validate()
        self.settings.steps_per_round = int(steps)
        self._changed()
        self.save()

    def intervene(self, kind: str, arg=None) -> None:
        """A live event, now, between steps: "leader_leaves", "shock" or "regime" (arg: its name).
        Kept with the round, so that a resume replays it at the same point."""
        if self.phase == "ended":
            raise RoomError("the session has ended", 409)
        if kind not in EVENTS:
            raise RoomError(f"event {kind!r} is not one of {', '.join(EVENTS)}")
        if kind == "regime":
            if arg not in REGIMES:
                raise RoomError(f"regime {arg!r} is not one of {', '.join(REGIMES)}")
            if arg == self.regime:
                raise RoomError(f"the organisation is already {arg}", 409)
        else:
            arg = None
        if kind == "leader_leaves" and self.model.state.gone[0]:
            raise RoomError("member 0 has already left", 409)
        entry = {"after_step": int(self.model.steps), "kind": kind, "arg": arg}
        self._apply(entry)
        self.interventions.append(entry)
        self.notice = {"leader_leaves": "Member 0, the designated leader, has left the organisation.",
                       "shock": "A market shock: demand has shifted.",
                       "regime": f"The organisation has switched to {arg} leadership."}[kind]
        self.notice_round = self.round
        if self.phase in ("open", "paused"):
            self._refresh(recheck=True)
        for p in self.active:
            if kind == "leader_leaves" and p.member == 0:
                p.notice = ("Your member, member 0 (the designated leader), has left the organisation. "
                            "Take another member to play on.")
            elif kind == "regime":
                p.notice = (f"The organisation now runs on {arg} leadership: " + {
                    "distributed": "anyone may step up.",
                    "hybrid": "members may step up for the tasks managers leave open; managers appoint to the others.",
                }.get(arg, "nobody steps up; members wait to be appointed."))
            self._touch(p)
        self._changed()

    def _apply(self, entry: dict) -> None:
        self.model.intervene(entry["kind"], entry["arg"])
        self.org.marks.append((self.org.steps, describe(entry["kind"], entry["arg"])))

    @property
    def regime(self) -> str:
        return players.REGIME_NAMES[int(self.model.state.regime)]

    # ----- a participant's decision ----------------------------------------------------------
    def decide(self, p: Participant, kind, task_id=None, round_no=None, member=None) -> dict:
        """Record p's choice for this round, checked now with the model's rule. A refused choice
        changes nothing. Returns {"status": "accepted" | "refused", "reason": ...}."""
        if member is not None and member != p.member:
            raise RoomError("a participant's token acts only for its own member", 403)
        if not p.active:
            raise RoomError("you have left the room; join again", 409)
        if self.phase not in ("open", "paused"):
            raise RoomError("no round is open", 409)
        if round_no != self.round:
            raise RoomError(f"round {round_no} is not open; this is round {self.round}", 409)
        if kind not in KINDS:
            raise RoomError(f"a decision is one of {', '.join(KINDS)}")
        if kind in ("rest", "wait"):
            if task_id is not None:
                raise RoomError(f"{kind} takes no task")
        elif type(task_id) is not int or not 0 <= task_id < 2**53:
            raise RoomError(f"{kind} needs a task id (a whole number)")
        if p.busy:
            raise RoomError("your member has nothing to decide this round", 409)
        if kind != "wait":
            why = players.refusal(self.model.state, players.Decision(self.model.steps + 1, p.member, kind, task_id))
            if why:
                p.feedback = f"Not possible: {why}."
                self._touch(p)
                return {"status": "refused", "reason": why}
        p.choice = {"kind": kind, "task_id": task_id}
        p.feedback = reason = _confirmation(kind, task_id, self.settings.steps_per_round)
        self._touch(p)
        self._close_if_all_decided()
        return {"status": "accepted", "reason": reason}

    # ----- rounds ----------------------------------------------------------------------------
    def tick(self) -> bool:
        """Close the open round if its time is up. True if it did."""
        if self.phase == "open" and self.deadline is not None and self.clock() >= self.deadline:
            self._close_round()
            return True
        return False

    def seconds_left(self) -> float | None:
        if self.phase == "paused":
            return self.remaining
        if self.phase != "open" or self.deadline is None:
            return None
        return max(0.0, self.deadline - self.clock())

    def _round_seconds(self) -> float | None:
        """This round's time: the timer, or a short one when nobody has anything to decide."""
        timer = float(self.settings.timer) or None
        if not any(not p.busy for p in self.active):
            return IDLE_ROUND_SECONDS if timer is None else min(timer, IDLE_ROUND_SECONDS)
        return timer

    def _deadline(self) -> float | None:
        seconds = self._round_seconds()
        return None if seconds is None else self.clock() + seconds

    def _open_round(self) -> None:
        self.round += 1
        self.round_started_step = int(self.model.steps)
        self.phase = "open" if self.phase in ("lobby", "open") else self.phase
        if self.round > self.notice_round + 1:
            self.notice = ""
        for p in self.participants.values():
            p.choice, p.feedback, p.notice = None, "", ""
            self._touch(p)
        self._refresh()
        if self.phase == "open":
            self.deadline, self.remaining = self._deadline(), None
        else:
            self.deadline, self.remaining = None, self._round_seconds()
        self._changed()

    def _refresh(self, members=None, recheck: bool = False) -> None:
        """What the participants' members see, and what the rule would do for them. With
        `recheck` (after an intervention), choices that no longer hold are dropped."""
        if members is None:
            self.views, self.rule = {}, {}
            members = sorted(self.held_members())
        members = [m for m in members if m is not None]
        self.views.update({m: self.model.view(m) for m in members})
        self.rule.update(self.model.rule_choices(members))
        for p in self.active:
            if p.member not in members:
                continue
            view = self.views[p.member]
            was_busy, p.busy = p.busy, not view["available"]
            if p.busy:
                p.choice = None
            if view["status"] == "gone":
                p.notice = p.notice or "Your member has left the organisation. Take another member to play on."
            elif was_busy and not p.busy:
                p.notice = ""
            if recheck and p.choice is not None and p.choice["kind"] != "wait":
                why = players.refusal(self.model.state, players.Decision(self.model.steps + 1, p.member,
                                                                         p.choice["kind"], p.choice["task_id"]))
                if why:
                    p.choice, p.feedback = None, f"Your decision no longer holds ({why}); decide again."
            self._touch(p)

    def _close_if_all_decided(self) -> None:
        """Close the round once everyone with something to decide has decided (not when paused:
        the facilitator holds the room, and not when nobody had anything to decide)."""
        people = self.active
        if self.phase == "open" and any(not p.busy for p in people) and all(p.decided for p in people):
            self._close_round()

    def _close_round(self) -> None:
        closed_at = time.time()  # the moment the round closes: the latency is counted from here
        model, steps = self.model, int(self.settings.steps_per_round)
        first = int(model.steps)
        log_from = len(model.decision_log)
        players_now = [p for p in self.active if p.member is not None]
        records = [self._player_record(p) for p in players_now]
        for step in range(steps):
            for p in players_now:
                c = p.choice
                if c is None or c["kind"] == "wait" or (step > 0 and c["kind"] not in HELD):
                    continue
                d = players.Decision(model.steps + 1, p.member, c["kind"], c["task_id"])
                if step == 0 or players.refusal(model.state, d) is None:  # a held choice lapses quietly
                    model.decide(p.member, c["kind"], c["task_id"])
            self._step()
        decisions = model.decision_log[log_from:]
        first_entry = {(e["member"], e["step"]): e for e in decisions}
        for p, record in zip(players_now, records):
            entry = first_entry.get((p.member, first + 1))
            if entry is not None:
                record["status"], record["reason"] = entry["status"], entry["reason"]
            s, m = model.state, p.member
            record["energy_after"] = float(s.energy[m])
            record["status_after"] = status_of(s, m)
            t = int(s.task_of[m])
            record["leading"] = int(s.task_id[t]) if t >= 0 and s.role_lead[m] else None
            record["led_after"] = int(s.led_count[m])
        record = {"round": self.round, "first_step": first, "steps": steps, "regime": self.regime,
                  "interventions": self.interventions, "decisions": decisions, "players": records,
                  "fingerprint": fingerprint(model), "closed_at": closed_at}
        self.rounds.append(record)
        self.interventions = []
        self.closed_at = record["closed_at"]
        self._save_round(record)
        self._open_round()
        self.save()

    def _player_record(self, p: Participant) -> dict:
        """p's part of this round, before the steps: its choice beside the rule's."""
        s, m = self.model.state, p.member
        rule = rule_decision(self.rule.get(m, {}))
        choice = p.choice
        own = choice is not None and choice["kind"] != "wait"
        return {"participant": p.id, "name": p.name, "member": m, "busy": p.busy,
                "choice": choice["kind"] if choice else None, "task_id": choice["task_id"] if choice else None,
                "left_to_rule": None if own or p.busy else ("wait" if choice else "timeout"),
                "rule": rule["kind"], "rule_task_id": rule["task_id"],
                "rule_reason": self.rule.get(m, {}).get("reason", ""),
                "agreed": same_choice(choice, rule) if own else None,
                "status": None, "reason": "", "energy_before": float(s.energy[m]), "led_before": int(s.led_count[m])}

    def _step(self) -> None:
        self.org.step()
        self._record_groups()

    def _record_groups(self) -> None:
        """Mean energy and autonomy of the members participants play now, and of the others."""
        s = self.model.state
        held = self._replay_members if self._replay_members is not None else self.held_members()
        present = ~s.gone[: s.n]
        mine = np.zeros(s.n, dtype=bool)
        mine[[m for m in held if m < s.n]] = True
        rest = present & ~mine
        mine &= present

        def mean(values, where):
            return float(values[: s.n][where].mean()) if where.any() else float("nan")

        self.group_energy.append((int(self.model.steps), mean(s.energy, mine), mean(s.energy, rest),
                                  mean(s.autonomy, mine), mean(s.autonomy, rest)))

    def _changed(self) -> None:
        self.version += 1
        self.console_version += 1

    # ----- what people see -------------------------------------------------------------------
    def etag(self, p: Participant | None) -> str:
        return f"{self.version}.{p.version if p else 0}"

    def participant_view(self, p: Participant | None) -> dict:
        """Everything a participant's screen shows (before joining, p is None)."""
        room = {"code": shown_code(self.code), "phase": self.phase, "round": self.round, "step": int(self.model.steps),
                "regime": self.regime, "timer": float(self.settings.timer), "seconds_left": self.seconds_left(),
                "steps_per_round": int(self.settings.steps_per_round), "notice": self.notice,
                "closed_at": self.closed_at, "full": len(self.active) >= MAX_PARTICIPANTS}
        out = {"room": room, "etag": self.etag(p), "joined": p is not None, "you": None}
        if p is None:
            return out
        out["you"] = {"id": p.id, "name": p.name, "active": p.active, "member": p.member, "decided": p.decided,
                      "busy": p.busy, "choice": p.choice, "feedback": p.feedback, "notice": p.notice}
        if self.phase == "ended":
            from .debrief import personal

            out["summary"] = personal(self, p)
        if p.active and p.member is not None:
            view = self.views.get(p.member) or self.model.view(p.member)
            out.update(_screen(view))
        return out

    def console_view(self) -> dict:
        people = []
        for p in self.participants.values():
            state = ("left" if not p.active else "busy" if p.busy else "decided" if p.choice else "deciding")
            if self.phase not in ("open", "paused") and p.active:
                state = "joined"
            people.append({"id": p.id, "name": p.name, "member": p.member, "state": state,
                           "choice": p.choice["kind"] if p.choice else None})
        active = self.active
        return {"phase": self.phase, "round": self.round, "step": int(self.model.steps), "regime": self.regime,
                "regimes": list(REGIMES),
                "timer": float(self.settings.timer), "seconds_left": self.seconds_left(),
                "steps_per_round": int(self.settings.steps_per_round), "notice": self.notice,
                "participants": people, "n_active": len(active),
                "n_decided": sum(1 for p in active if p.decided), "n_members": int(self.model.state.n),
                "leader_present": not bool(self.model.state.gone[0]), "version": self.console_version,
                "rounds_completed": len(self.rounds)}

    # ----- persistence -----------------------------------------------------------------------
    def _make_folder(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)  # it holds the room's tokens
        (self.folder / ROUNDS_DIR).mkdir(exist_ok=True)

    def save(self) -> None:
        if self.folder is None:
            return
        data = {"format": FORMAT, "settings": dataclasses.asdict(self.settings), "code": self.code,
                "console_token": self.console_token, "phase": self.phase, "rounds_completed": len(self.rounds),
                "participants": [p.saved() for p in self.participants.values()]}
        _write_json(self.folder / ROOM_FILE, data)

    def _save_round(self, record: dict) -> None:
        if self.folder is not None:
            _write_json(self.folder / ROUNDS_DIR / f"{record['round']:06d}.json", record)

    @classmethod
    def load(cls, folder: str | Path, clock=time.monotonic) -> "Room":
        """The room saved in `folder`, replayed to its last completed round."""
        folder = Path(folder)
        try:
            saved = json.loads((folder / ROOM_FILE).read_text())
        except (OSError, ValueError) as exc:
            raise RoomError(f"{folder / ROOM_FILE} cannot be read: {exc}") from None
        if saved.get("format") != FORMAT:
            raise RoomError(f"{folder / ROOM_FILE} is not a room of this version (format {saved.get('format')})")
        room = cls(RoomSettings(**saved["settings"]), folder, clock=clock, _saved=saved)
        for item in saved["participants"]:
            p = Participant(**item)
            room.participants[p.id] = p
            room._by_token[p.token] = p
        room._replay_rounds()
        room.phase = "lobby"
        if saved["phase"] == "ended":
            room.phase = "ended"
        elif saved["phase"] in ("open", "paused") or room.rounds:
            room.phase = "paused" if saved["phase"] == "paused" else "open"
            room._open_round()
        room.notice = (f"The room resumed after round {len(room.rounds)}." if room.rounds else "")
        room.notice_round = room.round
        room.save()
        return room

    def _replay_rounds(self) -> None:
        number = 1
        while (path := self.folder / ROUNDS_DIR / f"{number:06d}.json").is_file():
            record = json.loads(path.read_text())
            self._replay(record)
            self.rounds.append(record)
            number += 1
        self.round = len(self.rounds)
        self.closed_at = self.rounds[-1]["closed_at"] if self.rounds else None

    def _replay(self, record: dict) -> None:
        """One completed round again: its interventions, then each step's accepted decisions and
        the step. The fingerprint proves the organisation is where the room left it."""
        if record["first_step"] != self.model.steps:
            raise RoomError(f"round {record['round']} starts at step {record['first_step']}, "
                            f"but the replay is at step {self.model.steps}")
        self._replay_members = {r["member"] for r in record["players"]}
        for entry in record["interventions"]:
            self._apply(entry)
        accepted: dict[int, list[dict]] = {}
        for entry in record["decisions"]:
            if entry["status"] == "accepted":
                accepted.setdefault(entry["step"], []).append(entry)
        for _ in range(record["steps"]):
            for entry in accepted.get(self.model.steps + 1, ()):
                self.model.decide(entry["member"], entry["kind"], entry["task_id"])
            self._step()
        self._replay_members = None
        if fingerprint(self.model) != record["fingerprint"]:
            raise RoomError(f"replaying round {record['round']} does not reproduce the saved organisation "
                            "(has the model's code changed since the session began?)")


def _number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RoomError(f"{what} is a number")
    return float(value)


def _write_json(path: Path, data) -> None:
    text = json.dumps(data, indent=1, allow_nan=True)
    write_atomic(path, lambda tmp: Path(tmp).write_text(text))


def _confirmation(kind: str, task_id, steps: int) -> str:
    held = " for the whole round" if steps > 1 and kind in HELD else ""
    return {"step_up": f"You step up to lead task {task_id}. If a colleague who fits it better also "
                       "steps up, they lead.",
            "join": f"You accept the invitation of task {task_id}'s team: you join if its recruiting reaches "
                    "you.",
            "decline": f"You decline the invitation of task {task_id}'s team{held}.",
            "rest": f"You rest: no task, no team{held}.",
            "wait": "You wait: the rule plays your member this round."}[kind]


def _screen(view: dict) -> dict:
    """A member's view (sim.players.view), trimmed to what a phone shows."""
    task = view["task"]
    member = {"id": view["member"], "status": view["status"], "energy": view["energy"], "autonomy": view["autonomy"],
              "skills": view["skills"], "available": view["available"], "can_step_up": view["can_step_up"],
              "task": None if task is None else {
                  "task_id": task["task_id"], "role": task["role"], "lead": task["lead"], "team_size": len(task["team"]),
                  "work_left": task["work_left"], "self_organised": task["self_organised"],
                  "deadline": task["deadline"]},
              "appointment": view["appointment"]}
    tasks = sorted(view["open_tasks"], key=lambda t: -t["score"])[:SHOWN_TASKS]
    return {"member": member,
            "open_tasks": [{"task_id": t["task_id"], "value": t["value"], "needs": t["req"],
                            "steps_left": t["deadline"] - view["next_step"], "benefit": t["benefit"],
                            "fit": t["fit"], "energy": t["energy"], "support": t["support"]} for t in tasks],
            "more_tasks": max(0, len(view["open_tasks"]) - SHOWN_TASKS),
            "invitations": [{"task_id": i["task_id"], "lead": i["lead"], "team_size": len(i["team"]),
                             "coverage": i["coverage"], "coverage_target": i["coverage_target"], "trust": i["trust"],
                             "needs": i["req"]} for i in view["invitations"]]}

"""A participant without a browser: it speaks the room's protocol as participant.js does (join,
long-poll `/api/me`, decide), over plain HTTP. The load test and the latency benchmark
(benchmarks/room_latency.py) run many of these, one thread each."""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from urllib.parse import quote, urlsplit


class RoomClient:
    def __init__(self, base: str, code: str = "", timeout: float = 40.0, cookies: dict | None = None):
        parts = urlsplit(base)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self.code = code
        self.cookies = dict(cookies or {})  # more cookies to send, e.g. the console's token
        self.token: str | None = None
        self.view: dict | None = None
        self._conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: dict | None = None, cookies: dict | None = None):
        """(status, JSON or text) of one request, with this participant's cookies."""
        jar = {**({"leadsim_room": self.code} if self.code else {}),
               **({"leadsim_player": self.token} if self.token else {}), **self.cookies, **(cookies or {})}
        headers = {"cookie": "; ".join(f"{k}={v}" for k, v in jar.items()), "content-type": "application/json"}
        data = None if body is None else json.dumps(body)
        for attempt in (0, 1):  # a kept-alive connection the server closed: reconnect once
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self._conn.request(method, path, body=data, headers=headers)
                response = self._conn.getresponse()
                raw = response.read()
                break
            except (http.client.HTTPException, ConnectionError, OSError):
                self.close()
                if attempt:
                    raise
        try:
            return response.status, json.loads(raw)
        except ValueError:
            return response.status, raw.decode("utf-8", "replace")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def join(self, name: str) -> dict:
        status, data = self.request("POST", "/api/join", {"name": name})
        if status != 200:
            raise RuntimeError(f"join failed: {status} {data}")
        self.token, self.view = data["token"], data
        return data

    def poll(self) -> dict:
        """The next state: at once if it changed since the last one, else when it does."""
        since = f"?since={quote(self.view['etag'])}" if self.view else ""
        status, data = self.request("GET", "/api/me" + since)
        if status != 200:
            raise RuntimeError(f"poll failed: {status} {data}")
        self.view = data
        return data

    def decide(self, kind: str, task_id: int | None = None, **extra) -> tuple[int, dict]:
        body = {"round": self.view["room"]["round"], "kind": kind, **({"task_id": task_id} if task_id is not None else {}),
                **extra}
        status, data = self.request("POST", "/api/decide", body)
        if status == 200:
            self.view = {k: v for k, v in data.items() if k not in ("status", "reason")}
        return status, data

    def choice(self, rng: random.Random) -> tuple[str, int | None] | None:
        """A plausible decision from what the screen shows, or None when there is nothing to decide."""
        v = self.view
        if not v or v["room"]["phase"] not in ("open", "paused") or v["you"]["busy"] or v["you"]["decided"]:
            return None
        options: list[tuple[str, int | None]] = [("rest", None), ("wait", None)]
        if v["member"]["can_step_up"]:
            options += [("step_up", t["task_id"]) for t in v["open_tasks"]] * 2
        options += [(kind, i["task_id"]) for i in v["invitations"] for kind in ("join", "join", "decline")]
        return rng.choice(options)


class Bot(threading.Thread):
    """A participant that follows the rounds and decides at random, after a random pause, from
    what its screen offers; or, with `decides=False`, never (the timer plays it). It records when
    it first saw each round, and when the server says the round before closed."""

    def __init__(self, base: str, code: str, name: str, seed: int, pause=(0.0, 0.3), decides: bool = True):
        super().__init__(daemon=True, name=f"bot {name}")
        self.client = RoomClient(base, code)
        self.client.join(name)
        self.rng = random.Random(seed)
        self.pause, self.decides = pause, decides
        self.seen: dict[int, float] = {}  # round -> time.time() this bot first saw it
        self.closed: dict[int, float] = {}  # round -> when the round before it closed (server's clock)
        self.decisions = 0
        self.refusals: list[str] = []
        self.errors: list[str] = []
        self.halt = threading.Event()

    @property
    def member(self) -> int:
        return self.client.view["you"]["member"]

    def _saw(self, view: dict) -> None:
        room = view["room"]
        if room["phase"] in ("open", "paused") and room["round"] not in self.seen:
            self.seen[room["round"]] = time.time()
            if room["closed_at"] is not None:
                self.closed[room["round"]] = room["closed_at"]

    def run(self) -> None:
        try:
            while not self.halt.is_set():
                view = self.client.poll()
                if view["room"]["phase"] == "ended":
                    return
                self._saw(view)
                for _ in range(5):  # a refused choice: choose again
                    choice = self.client.choice(self.rng) if self.decides else None
                    if choice is None:
                        break
                    time.sleep(self.rng.uniform(*self.pause))
                    status, data = self.client.decide(*choice)
                    if status == 200:
                        self.decisions += data["status"] == "accepted"
                        if data["status"] == "refused":
                            self.refusals.append(data["reason"])
                        self._saw(data)  # the last to decide gets the next round in the answer
                    else:  # 409: the round closed meanwhile (the timer), which is fine
                        if status != 409:
                            self.errors.append(f"{status} {data}")
                        break
        except Exception as exc:  # reported by the test or the benchmark
            self.errors.append(f"{type(exc).__name__}: {exc}")


def round_latencies(seen: list[dict[int, float]], closed: dict[int, float]) -> dict[int, float]:
    """For each round after the first: seconds from the close of the round before it until the
    last participant saw it (`seen`: each participant's round -> time first seen)."""
    out = {}
    for number, at in closed.items():
        times = [s[number] for s in seen if number in s]
        if len(times) == len(seen):
            out[number] = max(times) - at
    return out


class Served:
    """`leadsim-room` in a subprocess on a free port, for the tests and the benchmark. Its room
    code and console token are read from the room's folder once it is ready."""

    def __init__(self, folder, *args: str, port: int | None = None, host: str = "127.0.0.1", timeout: float = 120):
        import json as _json
        import socket
        import subprocess
        import sys
        from pathlib import Path

        if port is None:
            with socket.socket() as sock:
                sock.bind((host, 0))
                port = sock.getsockname()[1]
        self.folder, self.port, self.host = Path(folder), port, host
        self.log: list[str] = []
        self.proc = subprocess.Popen([sys.executable, "-m", "sim.room.cli", "--room", str(folder), "--host", host,
                                      "--port", str(port), *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        ready = threading.Event()

        def read():
            for line in self.proc.stdout:
                self.log.append(line)
                if f"ready on port {port}" in line:
                    ready.set()

        threading.Thread(target=read, daemon=True).start()
        deadline = time.time() + timeout
        while not ready.wait(0.2):
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError("leadsim-room did not start:\n" + "".join(self.log))
        saved = _json.loads((self.folder / "room.json").read_text())
        self.code, self.console_token = saved["code"], saved["console_token"]
        self.base = f"http://127.0.0.1:{port}" if host in ("127.0.0.1", "0.0.0.0") else f"http://{host}:{port}"

    def console(self) -> RoomClient:
        """A client holding the console's token (and no participant's)."""
        return RoomClient(self.base, cookies={"leadsim_console": self.console_token})

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except Exception:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        """As a crash would: no chance to save anything."""
        self.proc.kill()
        self.proc.wait()

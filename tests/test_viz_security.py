"""The page exposed to a network, as a hostile neighbour would try it: the real `leadsim-viz`
command on loopback (the default) and on every interface (`--host 0.0.0.0`), probed with raw
HTTP and websocket requests, and opened in a real browser through this computer's LAN address (that test is in
test_viz_browser.py, beside the other real-browser tests).
"""

from __future__ import annotations

import http.client
import re
import subprocess
import sys
import threading
from urllib.parse import urlsplit

import pytest

from sim.viz import gate

WEBSOCKET = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
             "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}


class Server:
    def __init__(self, *args: str):
        from sim.viz.launch import free_port

        self.port = free_port("127.0.0.1")
        self.proc = subprocess.Popen([sys.executable, "-m", "sim.viz.launch", "--port", str(self.port), *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.log: list[str] = []
        ready = threading.Event()

        def read():
            for line in self.proc.stdout:
                self.log.append(line)
                if "ready:" in line:
                    ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(120):
            self.stop()
            pytest.fail("leadsim-viz did not start:\n" + "".join(self.log))
        self.address = re.search(r"ready: (\S+)", "".join(self.log)).group(1)
        parts = urlsplit(self.address)
        self.host, self.token = parts.hostname, (parts.query.split("token=", 1) + [None])[1]

    def request(self, path: str = "/", host: str | None = None, headers: dict | None = None, connect=None):
        conn = http.client.HTTPConnection(connect or self.host, self.port, timeout=30)
        conn.request("GET", path, headers={"Host": f"{host or self.host}:{self.port}", **(headers or {})})
        response = conn.getresponse()
        response.read()
        conn.close()
        return response

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def loopback():
    server = Server()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def exposed():
    server = Server("--host", "0.0.0.0")
    yield server
    server.stop()


def test_default_server_is_on_loopback_without_a_token(loopback):
    assert loopback.address == f"http://127.0.0.1:{loopback.port}/"
    assert loopback.request("/").status == 200
    assert loopback.request("/", host="localhost").status == 200
    lan = gate.lan_addresses()
    assert lan, "this test needs a network address besides loopback"
    with pytest.raises(OSError):  # nothing listens on the network address
        loopback.request("/", connect=lan[0])


def test_a_foreign_host_name_is_refused_on_loopback_too(loopback):
    """DNS rebinding: a site whose name resolves to 127.0.0.1 must not reach the page."""
    assert loopback.request("/", host="attacker.example").status == 403
    assert loopback.request("/static/assets/favicon.png", host="attacker.example").status == 403


def test_exposed_server_warns_and_prints_the_lan_address_with_a_token(exposed):
    text = "".join(exposed.log)
    assert "WARNING: listening on 0.0.0.0" in text
    assert "http://0.0.0.0" not in text and "0.0.0.0:" not in exposed.address
    assert exposed.host in gate.lan_addresses()
    assert exposed.host in subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split()
    assert exposed.token and len(exposed.token) >= 20


def test_exposed_server_answers_only_with_the_token(exposed):
    assert exposed.request("/").status == 403
    assert exposed.request("/?token=wrong").status == 403
    assert exposed.request(f"/?token={exposed.token[:-1]}").status == 403
    assert exposed.request("/static/assets/favicon.png").status == 403
    assert exposed.request("/", headers={"Cookie": "leadsim_token=forged"}).status == 403
    first = exposed.request(f"/?token={exposed.token}")
    assert first.status == 200
    cookie = next(v for k, v in first.getheaders() if k.lower() == "set-cookie" and v.startswith("leadsim_token="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert exposed.request("/", headers={"Cookie": f"leadsim_token={exposed.token}"}).status == 200


def test_exposed_servers_websocket_needs_the_token(exposed):
    path = "/jupyter/api/kernels/some-kernel/channels?session_id=x"
    assert exposed.request(path, headers=WEBSOCKET).status == 403
    assert exposed.request(path, headers={**WEBSOCKET, "Cookie": "leadsim_token=forged"}).status == 403


def test_exposed_server_refuses_a_foreign_host_even_with_the_token(exposed):
    assert exposed.request(f"/?token={exposed.token}", host="attacker.example").status == 403

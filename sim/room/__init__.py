"""The participatory room: workshop participants play members of the organisation from their own
phones or laptops (like NetLogo's HubNet), while the model's rules play everyone else.

`uv run leadsim-room` (sim/room/cli.py) starts a room. One concern a module:

- `room`: the room itself: its organisation, participants, rounds, timer, interventions, and its
  folder on disk (resume by replay); no web code, unit-tested without a server;
- `debrief`: what the room did, as tables (CSV) and a printable page;
- `drawing`: the organisation and the plots as SVG made on the server (no JavaScript library);
- `qr`: the participant address as a QR code (SVG and terminal), made offline;
- `access`: who may do what: room code, participants' tokens, the console's secret token;
- `server`: the web server (Starlette): plain pages from `static/`, long-polled rounds;
- `client`: a participant without a browser, for the load test and the latency benchmark;
- `cli`: the command.

The model's side (what a member sees, a participant's decision, the rule's choice, and replay
from the decision log) is in sim/players.py and LeadershipModel.
"""

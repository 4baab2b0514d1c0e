"""The browser page: `uv run leadsim-viz` (sim/viz/launch.py) serves `page` (sim/viz/app.py).

The page steps LeadershipModel on the numba engine and draws it through the Mesa agent views
(`model.member_agents`). One concern a module:

- `live`: a running organisation and its history, and the page's session (settings, one or two
  organisations in lockstep, interventions, readable errors); no solara, tested without a browser;
- `scenarios`: the scenario menu (configs/env/ markets and configs/scenario/ presets);
- `layout`: seeded, stable positions of members;
- `network` (+ `network.vue`): the drawing, the legend and a member's details;
- `plots`: live plots and the paired difference of compare mode;
- `controls`: settings, sliders, step/play/pause/reset, interventions;
- `compare`, `summary`: the two-organisation view and the headline numbers;
- `debrief` (logic, no solara) and `workshop` (the box): the room's prediction beside what
  happened, and the run's export as CSV and PNG;
- `app`: the page; `assets`: the front-end files for offline use; `launch`: the command.
"""

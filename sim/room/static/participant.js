// A participant's screen: join with a name, then each round see what the member sees and decide.
'use strict';

const app = document.getElementById('app');
let view = null;          // the latest state from the server
let receivedAt = 0;       // when it arrived (for the countdown)
let busyRequest = false;  // a decision on its way
let lastError = '';
window.roomSeen = {};     // round -> time (ms since the epoch) this browser first saw it (for the load test)

const CONDITIONS = [
  ['benefit', 'Benefit', 'the work benefits the organisation (or you)'],
  ['fit', 'Fit', 'your skills fit what it needs'],
  ['energy', 'Energy', 'you have the energy for it'],
  ['support', 'Support', 'colleagues you trust are free to help'],
];
const SKILLS = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'];
// regimes in which members may step up (hybrid: for the tasks the managers leave open)
const SELF_SELECTION = ['distributed', 'hybrid'];

function meter(label, value, title, plain) {
  const level = plain ? 'plain' : value < 0.34 ? 'low' : value < 0.67 ? 'mid' : 'high';
  return h('div', { className: 'meter', title: title || null },
    h('span', {}, label),
    h('div', { className: 'bar ' + level }, h('div', { style: `width:${pct(value)}%` })),
    h('span', { className: 'num' }, (value || 0).toFixed(2)));
}

function skills(values, caption) {
  return h('div', {},
    h('div', { className: 'muted' }, caption),
    h('div', { className: 'skills' }, values.map((v, k) =>
      h('div', { className: 'skill' }, h('div', { className: 'col' }, h('div', { style: `height:${pct(v)}%` })),
        SKILLS[k] || String(k + 1)))));
}

async function decide(kind, taskId) {
  if (busyRequest) return;
  busyRequest = true;
  const body = { round: view.room.round, kind };
  if (taskId !== undefined && taskId !== null) body.task_id = taskId;
  const { ok, data } = await post('/api/decide', body);
  busyRequest = false;
  lastError = ok ? '' : (data.error || 'that did not work');
  if (data.room) show(data); else render();
}

async function join(event) {
  event.preventDefault();
  const name = document.getElementById('name').value;
  const { ok, data } = await post('/api/join', { name });
  if (!ok) { lastError = data.error || 'could not join'; render(); return; }
  lastError = '';
  // the address now holds this participant's token: a reload, or another browser, gets the member back
  history.replaceState(null, '', '/?token=' + encodeURIComponent(data.token));
  show(data);
}

async function leave() {
  if (!confirm('Leave the room? Your member goes back to the rules.')) return;
  const { data } = await post('/api/leave');
  if (data.room) show(data);
}

async function switchMember() {
  const { ok, data } = await post('/api/switch');
  lastError = ok ? '' : (data.error || '');
  if (data.room) show(data); else render();
}

function show(data) {
  view = data;
  receivedAt = Date.now();
  const round = data.room.round;
  if (data.room.phase === 'open' || data.room.phase === 'paused') {
    if (!(round in window.roomSeen)) window.roomSeen[round] = receivedAt;
  }
  render();
}

function header() {
  const r = view.room;
  const you = view.you;
  document.getElementById('round').textContent =
    r.phase === 'lobby' ? 'Room ' + r.code : r.phase === 'ended' ? 'The end' : `Round ${r.round}`;
  document.getElementById('where').textContent =
    (you && you.active && you.member !== null ? `${you.name} · member ${you.member} · ` : '')
    + `step ${r.step} · ${r.regime} leadership`;
  tickClock();
}

function tickClock() {
  if (!view) return;
  const r = view.room;
  const text = document.getElementById('clock-text');
  const bar = document.getElementById('clock');
  if (r.phase === 'paused') { text.textContent = 'paused'; bar.style.width = '0'; return; }
  if (r.phase !== 'open' || r.seconds_left === null) { text.textContent = ''; bar.style.width = '0'; return; }
  const left = Math.max(0, r.seconds_left - (Date.now() - receivedAt) / 1000);
  text.textContent = `${Math.ceil(left)} s`;
  bar.style.width = r.timer > 0 ? `${Math.min(100, 100 * left / r.timer)}%` : '0';
}
setInterval(tickClock, 250);

function joinForm() {
  return h('form', { className: 'card joinform', onsubmit: join },
    h('h2', {}, 'Who leads? Join the organisation'),
    h('p', { className: 'muted' }, 'You will play one member of a simulated organisation. Each round, decide '
      + 'what your member does; everyone else is played by the model\u2019s rules.'),
    h('label', { for: 'name' }, 'Your name (shown on the projector)'),
    h('input', { id: 'name', name: 'name', maxlength: '40', autocomplete: 'nickname', required: true,
      placeholder: 'e.g. Sam' }),
    lastError ? h('p', { className: 'error' }, lastError) : null,
    h('button', { className: 'primary', type: 'submit' }, 'Join'));
}

function memberCard(m) {
  const lines = [];
  if (m.task) {
    const t = m.task;
    lines.push(h('p', {}, t.role === 'lead' ? `You lead task ${t.task_id}` : `You work on task ${t.task_id} (led by member ${t.lead})`,
      ` · team of ${t.team_size} · ${t.work_left.toFixed(1)} work left · due step ${t.deadline}`));
  }
  if (m.appointment) {
    const a = m.appointment;
    lines.push(h('p', { className: 'notice' }, `Appointed by ${a.by === 0 ? 'member 0, the hero' : 'member ' + a.by}`,
      ` to task ${a.task_id} as ${a.role === 'lead' ? 'its lead' : 'a team member'}. An appointment cannot be refused.`));
  }
  return h('div', { className: 'card', id: 'member' },
    h('h2', {}, `Member ${m.id} `, h('span', { className: 'status ' + m.status }, m.status)),
    m.id === 0 ? h('p', { className: 'muted' }, view.room.regime === 'heroic'
      ? 'You are member 0, the designated leader: the hero. The model makes the hero\u2019s appointments.'
      : 'You are member 0, the designated leader.') : null,
    meter('Energy', m.energy, 'below 0.1 you burn out and are out for a while'),
    meter('Autonomy', m.autonomy, 'autonomous motivation: how much you act on your own initiative'),
    skills(m.skills, 'Your skills in the four kinds of work'),
    lines);
}

function chosen(kind, taskId) {
  const c = view.you.choice;
  return c && c.kind === kind && (c.task_id === taskId || (taskId === undefined && c.task_id === null));
}

// "C 42% · D 40% · A 18%": the kinds of work a task needs, most first (compare with your skills)
function needs(values) {
  return values.map((v, k) => [v, SKILLS[k] || String(k + 1)]).filter(([v]) => v > 0.005)
    .sort((a, b) => b[0] - a[0]).map(([v, name]) => `${name} ${pct(v)}%`).join(' · ');
}

function taskCard(t, canStepUp) {
  return h('div', { className: 'card task', 'data-task': t.task_id },
    h('div', { className: 'head' }, h('h3', {}, `Task ${t.task_id}`),
      h('span', { className: 'muted' }, `value ${t.value.toFixed(2)} · ${t.steps_left} steps left`)),
    h('div', { className: 'muted' }, 'needs ' + needs(t.needs)),
    CONDITIONS.map(([key, label, title]) => meter(label, t[key], title)),
    h('div', { className: 'actions' },
      h('button', { className: chosen('step_up', t.task_id) ? 'chosen' : 'primary', disabled: !canStepUp,
        onclick: () => decide('step_up', t.task_id) }, 'Step up to lead')),
    canStepUp ? null : h('div', { className: 'why' }, SELF_SELECTION.includes(view.room.regime)
      ? 'You cannot take on work this round.' : 'In this regime nobody steps up: you wait to be appointed.'));
}

function inviteCard(i) {
  return h('div', { className: 'card task', 'data-invite': i.task_id },
    h('div', { className: 'head' }, h('h3', {}, `Invitation: task ${i.task_id}`),
      h('span', { className: 'muted' }, `from member ${i.lead}`)),
    h('p', { className: 'muted' }, `Needs ${needs(i.needs)}. Team of ${i.team_size}; it covers ${pct(i.coverage)}% of that `
      + `(it wants ${pct(i.coverage_target)}%). Your trust in them: ${i.trust.toFixed(2)}.`),
    h('div', { className: 'actions' },
      h('button', { className: chosen('join', i.task_id) ? 'chosen' : 'primary', onclick: () => decide('join', i.task_id) }, 'Join'),
      h('button', { className: chosen('decline', i.task_id) ? 'chosen' : '', onclick: () => decide('decline', i.task_id) }, 'Decline')));
}

function decisionArea() {
  const m = view.member;
  const you = view.you;
  const r = view.room;
  const out = [];
  if (r.phase === 'lobby') {
    out.push(h('div', { className: 'card' }, h('h3', {}, 'Waiting for the facilitator to start'),
      h('p', { className: 'muted' }, 'Each round you see the work your member can take on, with the four conditions '
        + 'for stepping up: benefit, fit, energy and support. Decide before the timer runs out, or the rule decides for you.')));
    return out;
  }
  if (you.busy) {
    const why = m.status === 'gone' ? 'Your member has left the organisation.'
      : m.task ? 'Your member is busy on a task this round.'
      : m.status === 'recovering' ? 'Your member is recovering from burnout.'
      : 'Your member has too little energy to take on work this round.';
    out.push(h('div', { className: 'card', id: 'busy' }, h('h3', {}, 'Nothing to decide this round'), h('p', { className: 'muted' }, why)));
    if (m.status === 'gone') out.push(h('button', { className: 'primary', onclick: switchMember }, 'Take another member'));
    return out;
  }
  const canStepUp = m.can_step_up;
  out.push(h('h3', { style: 'margin:14px 2px 0' }, view.open_tasks.length
    ? `Open tasks you can see (${view.open_tasks.length}${view.more_tasks ? ' best of ' + (view.open_tasks.length + view.more_tasks) : ''})`
    : 'No open task in sight'));
  out.push(view.open_tasks.map((t) => taskCard(t, canStepUp)));
  if (view.invitations.length) out.push(view.invitations.map(inviteCard));
  out.push(h('div', { className: 'choices' },
    h('button', { className: chosen('rest') ? 'chosen' : '', onclick: () => decide('rest') }, 'Rest this round'),
    h('button', { className: chosen('wait') ? 'chosen' : '', onclick: () => decide('wait') },
      SELF_SELECTION.includes(r.regime) ? 'Wait: let the rule decide' : 'Wait to be appointed')));
  return out;
}

function summary(s) {
  const share = s.agreement === null ? '–' : Math.round(100 * s.agreement) + '%';
  const rows = [
    ['Your own decisions', s.own_decisions], ['…the rule would have made the same', `${s.agreed} (${share})`],
    ['Stepped up / joined / declined / rested', `${s.stepped_up} / ${s.joined} / ${s.declined} / ${s.rested}`],
    ['Left to the rule (timer / wait)', `${s.timed_out} / ${s.waited}`],
    ['Tasks you led', s.tasks_led ? `${s.tasks_led} (${s.led_task_ids})` : '0'],
    ['Energy: start → end', `${(s.energy_start ?? 0).toFixed(2)} → ${(s.energy_end ?? 0).toFixed(2)}`],
  ];
  return h('div', { className: 'card summary', id: 'summary' }, h('h2', {}, 'Your session'),
    h('table', {}, rows.map(([k, v]) => h('tr', {}, h('td', {}, k), h('td', {}, h('b', {}, String(v)))))));
}

function render() {
  if (!view) return;
  header();
  const you = view.you;
  const parts = [];
  if (view.room.notice) parts.push(h('div', { className: 'notice' }, view.room.notice));
  if (!view.joined || !you.active) {
    if (view.room.phase === 'ended') parts.push(h('div', { className: 'card' }, 'The session has ended.'));
    else {
      if (you && !you.active) parts.push(h('p', { className: 'muted' }, 'You have left the room. Join again to play on.'));
      parts.push(joinForm());
    }
    if (view.summary) parts.push(summary(view.summary));
    const typed = document.getElementById('name');
    const value = typed ? typed.value : (you ? you.name : '');
    app.replaceChildren(...parts);
    const input = document.getElementById('name');
    if (input) input.value = value;
    return;
  }
  if (view.summary) {
    parts.push(summary(view.summary));
    app.replaceChildren(...parts);
    return;
  }
  if (you.notice) parts.push(h('div', { className: 'notice', id: 'you-notice' }, you.notice));
  if (view.member) parts.push(memberCard(view.member));
  if (you.feedback || lastError) {
    const refused = lastError || you.feedback.startsWith('Not possible') || you.feedback.startsWith('Your decision no longer');
    parts.push(h('div', { className: 'feedback' + (refused ? ' refused' : ''), id: 'feedback' }, lastError || you.feedback));
  }
  if (view.member) parts.push(decisionArea());
  parts.push(h('div', { className: 'leave' }, h('button', { onclick: leave }, 'Leave the room')));
  app.replaceChildren(...parts.flat(Infinity));
}

follow('/api/me', (data) => { lastError = ''; show(data); }, (text) => {
  document.getElementById('offline').classList.toggle('hidden', !text);
  if (text) document.getElementById('offline').textContent = text;
});

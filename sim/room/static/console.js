// The facilitator's console: controls on the left; on the right (and alone in projector view)
// how to join, the organisation with the participants' members ringed, and the plots. The
// organisation and the plots are SVG made on the server (sim/room/drawing.py), names escaped there.
'use strict';

let state = null;
let receivedAt = 0;
const $ = (id) => document.getElementById(id);

async function control(action, value) {
  const { ok, data } = await post('/api/control', value === undefined ? { action } : { action, value });
  $('error').textContent = ok ? '' : (data.error || 'that did not work');
  if (ok) show(data);
}

document.querySelectorAll('[data-action]').forEach((b) => b.addEventListener('click', () => {
  if (b.dataset.action === 'end' && !confirm('End the session? The open round is not played; the debrief follows.')) return;
  control(b.dataset.action);
}));
document.querySelectorAll('[data-event]').forEach((b) => b.addEventListener('click', () => control('event', b.dataset.event)));
$('set-timer').addEventListener('click', () => control('timer', Number($('timer').value)));
$('set-steps').addEventListener('click', () => control('steps', Number($('steps').value)));
$('switch').addEventListener('click', () => control('regime', $('regime').value));
function projector(on) {
  $('console').classList.toggle('projector', on);
  $('projector-exit').classList.toggle('hidden', !on);
}
$('projector').addEventListener('click', () => projector(true));
$('projector-exit').addEventListener('click', () => projector(false));

function clockText() {
  if (!state) return '';
  if (state.phase === 'paused') return 'paused';
  if (state.phase !== 'open' || state.seconds_left === null) return '';
  return Math.ceil(Math.max(0, state.seconds_left - (Date.now() - receivedAt) / 1000)) + ' s left';
}

const PHASES = { lobby: 'Waiting to start', open: 'Round open', paused: 'Paused', ended: 'Ended' };

function show(data) {
  state = data;
  receivedAt = Date.now();
  const s = data;
  $('console').classList.toggle('running', s.phase !== 'lobby');
  $('phase').textContent = PHASES[s.phase] + (s.round ? ` · round ${s.round}` : '');
  $('start').disabled = s.phase !== 'lobby';
  $('pause').disabled = s.phase !== 'open';
  $('resume').disabled = s.phase !== 'paused';
  $('next').disabled = !(s.phase === 'open' || s.phase === 'paused');
  $('end').disabled = s.phase === 'ended';
  $('leader').disabled = !s.leader_present || s.phase === 'ended';
  if (document.activeElement !== $('timer')) $('timer').value = s.timer;
  if (document.activeElement !== $('steps')) $('steps').value = s.steps_per_round;
  if (!$('regime').options.length) $('regime').replaceChildren(...s.regimes.map((name) => h('option', {}, name)));
  if (document.activeElement !== $('regime')) $('regime').value = s.regime;
  $('decided').textContent = (s.phase === 'open' || s.phase === 'paused')
    ? `${s.n_decided} of ${s.n_active} participants have decided` : '';
  $('count').textContent = `(${s.n_active})`;
  $('people').replaceChildren(...s.participants.map((p) => h('li', { 'data-participant': p.id },
    h('span', { className: 'who' }, p.name), h('span', {}, p.member === null ? '' : `#${p.member} `,
      h('span', { className: 'tag ' + p.state }, p.state)))));
  if (!$('qr').firstChild) $('qr').innerHTML = s.qr;  // made on the server (segno), no user text
  $('address').textContent = s.join_address;
  $('code').textContent = s.code;
  $('status').replaceChildren(
    h('span', {}, PHASES[s.phase]), s.round ? h('span', {}, 'round ', h('b', {}, String(s.round))) : null,
    h('span', {}, 'step ', h('b', {}, String(s.step))), h('span', {}, h('b', {}, s.regime), ' leadership'),
    h('span', {}, h('b', {}, String(s.n_active)), ' participants of ', String(s.n_members), ' members'),
    h('span', { id: 'clock' }, clockText()));
  $('notice').classList.toggle('hidden', !s.notice);
  $('notice').textContent = s.notice;
  $('org').innerHTML = s.org;       // server-made SVG, every name escaped there
  $('legend').innerHTML = s.legend;
  $('plots').innerHTML = s.plots.join('');
}

setInterval(() => { const c = $('clock'); if (c) c.textContent = clockText(); }, 250);

follow('/api/console', show, (text) => {
  $('offline').classList.toggle('hidden', !text);
  if (text) $('offline').textContent = text;
});

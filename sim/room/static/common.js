// Shared by the room's pages: building elements safely (text is always set as text, never as
// markup, so a participant's name cannot inject anything), and talking to the server.
'use strict';

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'className') el.className = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

async function post(path, body) {
  const response = await fetch(path, {
    method: 'POST', credentials: 'same-origin', cache: 'no-store',
    headers: { 'content-type': 'application/json' }, body: JSON.stringify(body || {}),
  });
  let data = {};
  try { data = await response.json(); } catch (e) { data = { error: 'the server did not answer' }; }
  return { ok: response.ok, status: response.status, data };
}

// Long polling: `onData` gets each new state; the loop reconnects by itself after a dropped
// network or a restarted server.
async function follow(path, onData, onOffline) {
  let since = null;
  for (;;) {
    try {
      const url = path + (since !== null ? '?since=' + encodeURIComponent(since) : '');
      const response = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
      if (response.status === 403) { onOffline(await response.text()); await sleep(3000); since = null; continue; }
      if (!response.ok) throw new Error(String(response.status));
      const data = await response.json();
      onOffline(null);
      since = data.etag !== undefined ? data.etag : String(data.version);
      onData(data);
    } catch (e) {
      onOffline('Reconnecting…');
      await sleep(1000);
    }
  }
}

function pct(x) { return Math.round(100 * Math.max(0, Math.min(1, x || 0))); }

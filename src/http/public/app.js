// The demo page: log in, open a raw WebSocket for the session, show frames live.
// Same origin as the API, so the browser sends the HttpOnly secret cookie itself.
const $ = (id) => document.getElementById(id);
const state = { session: undefined, socket: undefined };

for (const el of document.querySelectorAll('.origin')) el.textContent = location.origin;

function setSocketState(name, text) {
  const el = $('socket-state');
  el.dataset.state = name;
  el.textContent = text;
  $('connect-button').disabled = !state.session || name === 'connecting' || name === 'open';
  $('disconnect-button').disabled = name !== 'open' && name !== 'connecting';
}

function addMessage(text) {
  const li = document.createElement('li');
  const time = document.createElement('time');
  time.textContent = new Date().toLocaleTimeString();
  li.append(time, document.createTextNode(text));
  $('messages').append(li);
  li.scrollIntoView({ block: 'nearest' });
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const status = $('login-status');
  status.className = 'status';
  status.textContent = 'Logging in...';
  const res = await fetch('/api/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: $('login').value, password: $('password').value }),
  });
  const body = await res.json();
  if (!res.ok) {
    status.className = 'status error';
    status.textContent = `${body.error}: ${body.message}`;
    return;
  }
  state.session = body.session;
  status.textContent = `Logged in as user ${body.userId} in context ${body.contextId} (session ${body.session.slice(0, 8)}..., node route ${body.route})`;
  $('node').textContent = `route ${body.route}`;
  $('logout-button').disabled = false;
  setSocketState('idle', 'not connected');
});

$('connect-form').addEventListener('submit', (event) => {
  event.preventDefault();
  if (!state.session) return;
  const url = new URL($('path').value, location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('session', state.session);
  setSocketState('connecting', 'connecting...');
  const socket = new WebSocket(url);
  state.socket = socket;
  socket.addEventListener('open', () => setSocketState('open', `open on ${url.pathname}`));
  socket.addEventListener('message', (e) => addMessage(String(e.data)));
  socket.addEventListener('close', (e) => {
    if (state.socket === socket) state.socket = undefined;
    setSocketState('closed', `closed (code ${e.code}${e.reason ? `: ${e.reason}` : ''})`);
  });
});

$('disconnect-button').addEventListener('click', () => state.socket?.close(1000, 'closed by the page'));

$('logout-button').addEventListener('click', async () => {
  if (!state.session) return;
  await fetch(`/api/logout?session=${encodeURIComponent(state.session)}`, { method: 'POST' });
  state.session = undefined;
  $('login-status').textContent = 'Logged out.';
  $('logout-button').disabled = true;
  $('connect-button').disabled = true;
});

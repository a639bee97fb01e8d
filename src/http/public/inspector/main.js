// @ts-check
/**
 * The live inspector page (/admin/inspector): wires the token form, the event
 * stream, the model and the rendering. No data is in the page: everything comes
 * from the admin API, behind the token the user enters.
 *
 * Samples of live actors (`GET /api/admin/inspector/actors`) fill the lists the
 * stream's batches keep up to date: all of them after each snapshot, and one group's
 * when its list disagrees with its count. The model orders them against the stream
 * by the hub's `seq` (model.js says why).
 */
import { api, AuthError, token } from './api.js';
import { layoutChart } from './layout.js';
import { InspectorModel, LIST_CAP } from './model.js';
import { canvasMeasure, onActorClick, renderCharts, renderCounts, renderDetails, renderEnded, renderGroups, renderNoDetails, setStatus } from './render.js';
import { openStream } from './stream.js';

/** The first sample after a snapshot: enough to fill every list of a small node. */
const FIRST_SAMPLE = 500;
/** The shortest time between two samples of one group, ms. */
const REFILL_MS = 1000;

const model = new InspectorModel();
/** @type {Array<{ name: string, description: string, kind: string, definition: any }>} */
let charts = [];
/** @type {import('./render.js').Badge[]} */
let badges = [];
/** @type {{ close(): void } | undefined} */
let stream;
/** @type {Map<string, number>} */
const refilledAt = new Map();
/** Groups whose refill waits for REFILL_MS to pass. @type {Map<string, ReturnType<typeof setTimeout>>} */
const refillLater = new Map();

const form = /** @type {HTMLFormElement} */ (document.getElementById('token-form'));
const input = /** @type {HTMLInputElement} */ (document.getElementById('token'));

form.addEventListener('submit', (event) => {
  event.preventDefault();
  token.set(input.value.trim());
  input.value = '';
  connect();
});

document.getElementById('forget-button')?.addEventListener('click', () => {
  token.forget();
  stream?.close();
  setStatus('idle', 'Token forgotten. Enter the admin token to connect.');
});

onActorClick((id) => showDetails(id));

function connect() {
  stream?.close();
  stream = openStream({
    url: '/api/admin/inspector/events',
    prepare: loadCharts,
    onMessage: ({ event, data }) => {
      if (event === 'snapshot') onSnapshot(data);
      else if (event === 'batch') onBatch(data);
    },
    onState: (state, error) => {
      if (state === 'connecting') return setStatus('connecting', 'Connecting...');
      if (state === 'refused') {
        token.forget();
        return setStatus('error', 'The token was refused (ERR_ADMIN_AUTH). Enter the admin token again.');
      }
      console.error(error);
      setStatus('error', `Disconnected (${error?.message}); retrying...`);
    },
  });
}

/** The charts are the same for the node's whole life: loaded once. @param {AbortSignal} signal */
async function loadCharts(signal) {
  if (charts.length) return;
  charts = (await api('/api/admin/inspector/charts', signal)).charts;
  const measure = canvasMeasure();
  badges = renderCharts(charts.map((c) => ({ name: c.name, description: c.description, layout: layoutChart(c.definition, measure) })));
}

/** @param {import('./model.js').Snapshot} snapshot */
function onSnapshot(snapshot) {
  model.applySnapshot(snapshot);
  refilledAt.clear();
  refillLater.forEach((timer) => clearTimeout(timer));
  refillLater.clear();
  setStatus('live', `Live since ${new Date(snapshot.at).toLocaleTimeString()}`);
  render();
  sample(undefined, FIRST_SAMPLE);
}

/** @param {import('./model.js').Batch} batch */
function onBatch(batch) {
  model.applyBatch(batch);
  // Changes left out: any list may be stale, ask for all of them again.
  if (batch.omitted) for (const { groups } of model.view([]).machines) for (const { key } of groups) refill(key);
  render();
  const selected = model.selected;
  const ended = batch.left.find((c) => c.id === selected);
  if (ended) {
    model.selected = undefined;
    renderEnded(ended);
  } else if (selected && batch.changes.some((c) => c.id === selected)) {
    showDetails(selected);
  }
}

function render() {
  const names = charts.map((c) => c.name);
  renderCounts(model, badges, names);
  renderGroups(model.view(names), model.selected);
  for (const key of model.wanting()) refill(key);
}

/**
 * Asks for a group's actors, at most once every REFILL_MS; one asked sooner waits
 * (a quiet node sends no batch that would ask again).
 * @param {string} key
 */
function refill(key) {
  const wait = (refilledAt.get(key) ?? -Infinity) + REFILL_MS - Date.now();
  if (wait > 0) {
    if (!refillLater.has(key)) {
      refillLater.set(key, setTimeout(() => {
        refillLater.delete(key);
        if (model.wanting().includes(key)) refill(key);
      }, wait));
    }
    return;
  }
  refilledAt.set(key, Date.now());
  sample(key, LIST_CAP);
}

/**
 * Asks for live actors, of one group or of all, and hands them to the model with
 * the stream they were asked on.
 * @param {string | undefined} key @param {number} limit
 */
async function sample(key, limit) {
  const epoch = model.epoch;
  const query = new URLSearchParams({ limit: String(limit) });
  if (key !== undefined) {
    const slash = key.indexOf('/');
    query.set('machine', key.slice(0, slash));
    query.set('state', key.slice(slash + 1));
  }
  const body = await api(`/api/admin/inspector/actors?${query}`).catch(() => undefined);
  if (body && model.applySample(body, { epoch, key })) render();
}

/** @param {string} id */
async function showDetails(id) {
  model.selected = id;
  let actor;
  try {
    actor = await api(`/api/admin/inspector/actors/${encodeURIComponent(id)}`);
  } catch (error) {
    if (model.selected === id) renderNoDetails(id, error instanceof AuthError ? 'token refused' : 'no longer live');
    return render();
  }
  // Another actor was clicked meanwhile, or this one's end came in before its details.
  if (model.selected !== id) return;
  if (!model.isCurrent(id, actor.seq)) renderNoDetails(id, 'no longer live');
  else renderDetails(actor);
  render();
}

if (token.get()) connect();

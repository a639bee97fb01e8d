// @ts-check
/**
 * The live inspector page (/admin/inspector): wires the token form, the node
 * selector, the event stream, the models and the rendering. No data is in the page:
 * everything comes from the admin API, behind the token the user enters.
 *
 * This node is shown live: its event stream, and samples of live actors
 * (`GET /api/admin/inspector/actors`) that fill the lists the stream's batches keep up
 * to date: all of them after each snapshot, and one group's when its list disagrees
 * with its count. The model orders them against the stream by the hub's `seq`
 * (model.js says why).
 *
 * Another node, or all of them, is sampled instead: every POLL_MS the page asks
 * `GET /api/admin/inspector/actors?node=<id>|all` (that node answers over the broker)
 * and shows the answer whole (sampled.js); a selected actor's details are asked again
 * with each sample. The list of live nodes is asked again every NODES_MS.
 */
import { api, ApiError, AuthError, token } from './api.js';
import { layoutChart } from './layout.js';
import { InspectorModel, LIST_CAP } from './model.js';
import { ALL_NODES, canvasMeasure, onActorClick, onNodeChange, renderCharts, renderCounts, renderDetails, renderEnded, renderGroups, renderNoDetails, renderNodes, renderNoSelection, setStatus } from './render.js';
import { SampledModel } from './sampled.js';
import { openStream } from './stream.js';

/** The first sample after a snapshot, and each sample of another node: enough to fill every list of a small node. */
const FIRST_SAMPLE = 500;
/** The shortest time between two samples of one group, ms. */
const REFILL_MS = 1000;
/** How often another node (or every node) is sampled, ms. */
const POLL_MS = 2000;
/** How often the list of live nodes is asked again, ms. */
const NODES_MS = 5000;

const model = new InspectorModel();
/** Another node's (or every node's) latest sample; undefined while this node is shown. @type {SampledModel | undefined} */
let sampled;
/** This node's id, and the node shown (this one, another, or `all`). */
let self = '';
let chosen = '';
/** The actor whose details are shown. @type {{ id: string, node: string } | undefined} */
let selection;
/** @type {Array<{ name: string, description: string, kind: string, definition: any }>} */
let charts = [];
/** @type {import('./render.js').Badge[]} */
let badges = [];
/** @type {{ close(): void } | undefined} */
let stream;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let pollTimer;
/** @type {ReturnType<typeof setInterval> | undefined} */
let nodesTimer;
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
  disconnect();
  setStatus('idle', 'Token forgotten. Enter the admin token to connect.');
});

onActorClick((id, node) => showDetails(id, node ?? self));
onNodeChange((node) => show(node));

/** Asks for the live nodes, then shows the node chosen (this one at first). */
async function connect() {
  disconnect();
  setStatus('connecting', 'Connecting...');
  try {
    await loadNodes();
  } catch (error) {
    return failed(/** @type {Error} */ (error));
  }
  nodesTimer = setInterval(() => loadNodes().catch(() => undefined), NODES_MS);
  show(chosen || self);
}

function disconnect() {
  stream?.close();
  stream = undefined;
  sampled = undefined;
  clearTimeout(pollTimer);
  clearInterval(nodesTimer);
}

/** The live nodes last drawn: the selector is drawn again only when they change (an open drop-down would close). */
let drawnNodes = '';

async function loadNodes() {
  const live = await api('/api/admin/inspector/nodes');
  self = live.self;
  const drawn = JSON.stringify([live, chosen || self]);
  if (drawn === drawnNodes) return;
  drawnNodes = drawn;
  renderNodes(live, chosen || self);
}

/** Shows `node`: this node's stream, or samples of another node or of all. @param {string} node */
function show(node) {
  chosen = node;
  selection = undefined;
  model.selected = undefined;
  renderNoSelection();
  stream?.close();
  stream = undefined;
  clearTimeout(pollTimer);
  // Nothing of the node shown before stays on screen while the chosen one is asked.
  sampled = node === self ? undefined : new SampledModel(node);
  if (!sampled) model.applySnapshot({ seq: 0, at: Date.now(), counts: {}, totals: {} });
  render();
  if (!sampled) return openLocalStream();
  setStatus('connecting', `Asking ${node === ALL_NODES ? 'every node' : `node ${node}`}...`);
  poll();
}

/** The token was refused: forget it and stop asking. */
function refused() {
  token.forget();
  disconnect();
  setStatus('error', 'The token was refused (ERR_ADMIN_AUTH). Enter the admin token again.');
}

/** @param {Error} error */
function failed(error) {
  if (error instanceof AuthError) return refused();
  console.error(error);
  setStatus('error', `Could not connect (${error.message}); enter the token to try again.`);
}

function openLocalStream() {
  stream = openStream({
    url: '/api/admin/inspector/events',
    prepare: loadCharts,
    onMessage: ({ event, data }) => {
      if (event === 'snapshot') onSnapshot(data);
      else if (event === 'batch') onBatch(data);
    },
    onState: (state, error) => {
      if (state === 'connecting') return setStatus('connecting', 'Connecting...');
      if (state === 'refused') return refused();
      console.error(error);
      setStatus('error', `Disconnected (${error?.message}); retrying...`);
    },
  });
}

/** The charts are the same for the node's whole life: loaded once. @param {AbortSignal} [signal] */
async function loadCharts(signal) {
  if (charts.length) return;
  charts = (await api('/api/admin/inspector/charts', signal)).charts;
  const measure = canvasMeasure();
  badges = renderCharts(charts.map((c) => ({ name: c.name, description: c.description, layout: layoutChart(c.definition, measure) })));
}

/** One sample of the node shown (another node, or all), then the next after POLL_MS. */
async function poll() {
  const current = sampled;
  if (!current) return;
  const n = current.ask();
  try {
    await loadCharts();
    // LIST_CAP of each state is what the lists show: a crowded state leaves room for the others.
    const query = new URLSearchParams({ node: current.node, limit: String(FIRST_SAMPLE), perState: String(LIST_CAP) });
    const body = await api(`/api/admin/inspector/actors?${query}`);
    if (current !== sampled || !current.apply(body, n)) return;
    sampledStatus(current);
    render();
    if (selection) showDetails(selection.id, selection.node);
  } catch (error) {
    if (current !== sampled) return;
    if (error instanceof AuthError) return refused();
    setStatus('error', `${current.node === ALL_NODES ? 'Every node' : `Node ${current.node}`}: ${/** @type {Error} */ (error).message}; asking again...`);
  } finally {
    if (current === sampled) pollTimer = setTimeout(poll, POLL_MS);
  }
}

/** @param {SampledModel} shown */
function sampledStatus(shown) {
  const nodes = shown.nodes ?? { answered: [], unanswered: [], failed: [] };
  const silent = [...nodes.unanswered, ...nodes.failed.map((f) => `${f.node} (${f.error})`)];
  const what = shown.node === ALL_NODES ? `All nodes (${nodes.answered.map((a) => a.node).join(', ')})` : `Node ${shown.node}`;
  const text = `${what}: sampled every ${POLL_MS / 1000} s, last at ${new Date(shown.at ?? Date.now()).toLocaleTimeString()}`;
  setStatus(silent.length ? 'partial' : 'live', silent.length ? `${text}; no answer from ${silent.join(', ')}` : text);
}

/** @param {import('./model.js').Snapshot} snapshot */
function onSnapshot(snapshot) {
  model.applySnapshot(snapshot);
  refilledAt.clear();
  refillLater.forEach((timer) => clearTimeout(timer));
  refillLater.clear();
  setStatus('live', `Node ${self}, live since ${new Date(snapshot.at).toLocaleTimeString()}`);
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
    selection = undefined;
    renderEnded(ended);
  } else if (selected && batch.changes.some((c) => c.id === selected)) {
    showDetails(selected, self);
  }
}

/** @param {{ id: string, node?: string }} actor */
const isSelected = (actor) => selection !== undefined && selection.id === actor.id && selection.node === (actor.node ?? self);

function render() {
  const names = charts.map((c) => c.name);
  const shown = sampled ?? model;
  renderCounts(shown, badges, names);
  renderGroups(shown.view(names), isSelected);
  if (!sampled) for (const key of model.wanting()) refill(key);
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

/**
 * Shows an actor's details: this node's from its own API, another node's asked over
 * the broker (`?node=`).
 * @param {string} id @param {string} node
 */
async function showDetails(id, node) {
  selection = { id, node };
  const local = sampled === undefined;
  model.selected = local ? id : undefined;
  const query = local ? '' : `?${new URLSearchParams({ node })}`;
  let actor;
  try {
    actor = await api(`/api/admin/inspector/actors/${encodeURIComponent(id)}${query}`);
  } catch (error) {
    if (!isSelected({ id, node })) return;
    if (error instanceof AuthError) return refused();
    // Gone (404): no longer asked for with each sample. Another failure (the node silent): asked again.
    const gone = error instanceof ApiError && error.status === 404;
    renderNoDetails(`${node} ${id}`, gone ? 'no longer live' : /** @type {Error} */ (error).message);
    if (gone) selection = model.selected = undefined;
    return render();
  }
  // Another actor was clicked meanwhile, or this one's end came in before its details.
  if (!isSelected({ id, node })) return;
  if (local && !model.isCurrent(id, actor.seq)) renderNoDetails(id, 'no longer live');
  else renderDetails(actor, node);
  render();
}

if (token.get()) connect();

// The page: sends dinornn-sample's arguments to worker.js (docs/web.md, "The
// worker's protocol") and shows the JSON lines and messages it answers.
'use strict';

const SLOW_MS = 2000;      // after this, say the search is still going
const CANCEL_MS = 1000;    // a stale run older than this is killed, not awaited
const PROGRAM = 'dinornn-sample: ';
const CKPT_MAGIC = 'DRNNCKPT';

const $ = (id) => document.getElementById(id);

class Restarted extends Error {}

// The worker, and the answers it owes: each message has an id its answer repeats.
class Engine {
  constructor(url, onCrash) {
    this.url = url;
    this.onCrash = onCrash;
    this.nextId = 1;
    this.pending = new Map();
    this.spawn();
  }

  spawn() {
    const worker = new Worker(this.url);
    this.worker = worker;
    // Events of a worker ended by restart() are not this one's.
    worker.onmessage = (e) => {
      if (worker !== this.worker) return;
      const p = this.pending.get(e.data && e.data.id);
      if (!p) return; // an answer nobody waits for any more
      this.pending.delete(e.data.id);
      p.resolve(e.data);
    };
    worker.onerror = (e) => {
      if (e.preventDefault) e.preventDefault();
      if (worker !== this.worker) return;
      this.rejectAll(new Error('the page\'s worker failed: ' + (e.message || 'could not start worker.js')));
      this.onCrash();
    };
  }

  // Bytes are copied, not transferred: the page keeps them to reload after a restart.
  request(msg) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage(Object.assign({}, msg, { id }));
    });
  }

  rejectAll(err) {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  // The only way to stop a search in the worker: end the worker.
  restart() {
    this.worker.terminate();
    this.rejectAll(new Restarted('restarted'));
    this.spawn();
  }
}

const state = {
  model: null,   // {bytes, name, info}
  names: null,   // {bytes, name, count}
  errors: new Map(),
};
let engine = null;
let ready = Promise.resolve();

// --- messages -------------------------------------------------------------

function stripProgram(line) {
  return line.startsWith(PROGRAM) ? line.slice(PROGRAM.length) : line;
}

// Errors by where they came from; each source clears its own when it succeeds.
function setError(source, lines) {
  state.errors.delete(source);
  const text = [].concat(lines || []).map(stripProgram).filter((l) => l !== '').join('\n');
  if (text) state.errors.set(source, text);
  const box = $('error');
  box.replaceChildren(...[...state.errors.values()].reverse().map((t) => {
    const p = document.createElement('p');
    p.textContent = t;
    return p;
  }));
}

function setNote(id, lines) {
  $(id).textContent = [].concat(lines || []).map(stripProgram).join(' ');
}

// --- numbers ---------------------------------------------------------------

// The logprobs as printed: the page reads the number text, not a reprinted double.
function rawLogprobs(line) {
  return [...line.matchAll(/"logprob":(-?[0-9][0-9.eE+-]*)/g)].map((m) => m[1]);
}

function percent(logprob) {
  const p = Math.exp(logprob) * 100;
  if (p >= 10) return p.toFixed(1) + '\u202f%';
  if (p >= 0.001) return p.toPrecision(2) + '\u202f%';
  return p.toExponential(1) + '\u202f%';
}

function lnText(logprob) {
  return 'ln\u202fp ' + logprob.toFixed(2).replace('-', '\u2212');
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function parseLines(out) {
  const rows = [];
  for (const line of out || []) {
    if (!line.trim()) continue;
    try {
      rows.push({ obj: JSON.parse(line), raw: rawLogprobs(line) });
    } catch (e) {
      rows.push({ obj: { name: line }, raw: [] });
    }
  }
  return rows;
}

// --- arguments -------------------------------------------------------------

function value(id) {
  return $(id).value;
}

function addIfSet(args, option, text) {
  if (text.trim() !== '') args.push(option + '=' + text.trim());
}

// The shape of the names: for --best and for sampling alike.
function shapeArgs() {
  const args = [];
  if (value('prefix') !== '') args.push('--prefix=' + value('prefix'));
  if (value('suffix') !== '') args.push('--suffix=' + value('suffix'));
  for (const s of value('contains').split(',').map((x) => x.trim()).filter(Boolean)) {
    args.push('--contains=' + s);
  }
  if (value('exclude') !== '') args.push('--exclude=' + value('exclude'));
  if (value('pattern') !== '') args.push('--pattern=' + value('pattern'));
  addIfSet(args, '--min-length', value('min-length'));
  addIfSet(args, '--max-length', value('max-length'));
  if ($('novel').checked && state.names) args.push('--novel');
  return args.concat(labelArgs());
}

function labelArgs() {
  return !$('label-field').hidden && value('label') !== '' ? ['--label=' + value('label')] : [];
}

function bestArgs() {
  const args = ['--format=json'];
  addIfSet(args, '--best', value('k').trim() === '' ? '10' : value('k'));
  addIfSet(args, '--max-expansions', value('max-expansions'));
  return args.concat(shapeArgs());
}

function sampleArgs() {
  const args = ['--format=json'];
  addIfSet(args, '--count', value('count'));
  addIfSet(args, '--temperature', value('temperature'));
  addIfSet(args, '--top-k', value('top-k'));
  addIfSet(args, '--seed', value('seed'));
  return args.concat(shapeArgs());
}

function scoreArgs(name) {
  return ['--format=json', '--score'].concat(labelArgs(), ['--', name]);
}

// --- runs: the latest request wins ------------------------------------------

// One kind of run (search, sampling, score). Only the answer to the latest
// request is shown; a run that a newer one made stale is dropped when it
// answers, or the worker is restarted if it has gone on for long.
class Lane {
  constructor(handlers) {
    this.h = handlers;
    this.wanted = null;
    this.busy = false;
    this.started = 0;
    this.current = null;
  }

  submit(args) {
    this.wanted = args;
    if (!this.busy) {
      this.pump();
    } else if (performance.now() - this.started > CANCEL_MS) {
      restartEngine(null);
    }
  }

  stop() {
    this.wanted = null;
    this.current = null;
    restartEngine(this);
  }

  async pump() {
    this.busy = true;
    while (this.wanted) {
      const args = this.wanted;
      this.wanted = null;
      this.current = args;
      this.started = performance.now();
      const slow = setTimeout(() => { if (this.current === args) this.h.slow(); }, SLOW_MS);
      let answer;
      try {
        await ready;
        answer = await engine.request({ type: 'run', args });
      } catch (e) {
        if (e instanceof Restarted) {
          if (!this.wanted && this.current === args) this.wanted = args; // run it again
          continue;
        }
        this.h.fail(e);
        continue;
      } finally {
        clearTimeout(slow);
      }
      if (!this.wanted) {
        this.h.answer(answer, args);
        // What is shown answers these arguments: for tests, and for anyone
        // who wants to run the same dinornn-sample command.
        document.body.dataset[this.h.name + 'Args'] = JSON.stringify(args);
      }
    }
    this.current = null;
    this.busy = false;
  }
}

function restartEngine(stoppedLane) {
  if (stoppedLane) stoppedLane.h.stopped();
  engine.restart();
  ready = loadIntoEngine().catch((e) => setError('load', [e.message]));
}

// --- showing the answers -----------------------------------------------------

function showBest(answer) {
  $('best-stop').hidden = true;
  const list = $('best-list');
  list.removeAttribute('aria-busy');
  if (answer.status !== 0) {
    setError('best', answer.err);
    setNote('best-note', []);
    list.replaceChildren();
    $('best-meta').textContent = '';
    return;
  }
  setError('best', []);
  setNote('best-note', answer.err);
  const rows = parseLines(answer.out);
  const top = rows.length ? rows[0].obj.logprob : 0;
  list.replaceChildren(...rows.map(({ obj, raw }) => {
    const li = el('li');
    li.dataset.name = obj.name;
    li.dataset.logprob = raw[0] !== undefined ? raw[0] : String(obj.logprob);
    const line = el('div', 'row');
    line.append(el('span', 'name', obj.name), el('span', 'prob', percent(obj.logprob)),
      el('span', 'lp', lnText(obj.logprob)));
    if (obj.exact === false) {
      const tag = el('span', 'tag warn', 'best found');
      tag.title = 'not proven to be in its place: the search reached its bound';
      line.append(tag);
    }
    const bar = el('span', 'bar');
    bar.style.setProperty('--f', Math.exp(obj.logprob - top).toFixed(4));
    bar.setAttribute('aria-hidden', 'true');
    li.append(line, bar);
    li.title = obj.name + ': ' + percent(obj.logprob) + ', log-probability ' + li.dataset.logprob;
    return li;
  }));
  $('best-meta').textContent = rows.length + (rows.length === 1 ? ' name' : ' names') +
    ' \u00b7 ' + Math.round(answer.ms || 0) + '\u202fms';
  if (!rows.length && !answer.err.length) setNote('best-note', ['no names']);
}

function showSample(answer) {
  $('sample-stop').hidden = true;
  const list = $('sample-list');
  setNote('sample-note', answer.status === 0 ? answer.err : []);
  setError('sample', answer.status === 0 ? [] : answer.err);
  const rows = answer.status === 2 ? [] : parseLines(answer.out);
  list.replaceChildren(...rows.map(({ obj }) => {
    const li = el('li');
    li.dataset.name = obj.name;
    li.append(el('span', 'name', obj.name));
    if (obj.label !== undefined) {
      li.dataset.label = obj.label;
      li.append(el('span', 'tag', obj.label));
    }
    return li;
  }));
}

function showScore(answer) {
  const result = $('score-result');
  const steps = $('score-steps');
  if (answer.status !== 0 || !answer.out.length) {
    setError('score', answer.err);
    result.textContent = '';
    delete result.dataset.logprob;
    steps.replaceChildren();
    return;
  }
  setError('score', []);
  const line = answer.out.find((l) => l.trim());
  const obj = JSON.parse(line);
  const raw = rawLogprobs(line);
  result.dataset.logprob = raw[0] !== undefined ? raw[0] : String(obj.logprob);
  result.replaceChildren(el('strong', 'name', obj.name), document.createTextNode(': '),
    el('span', 'prob', percent(obj.logprob)),
    document.createTextNode(' \u00b7 ' + lnText(obj.logprob) + ' \u00b7 ' +
      obj.nats_per_char.toFixed(3) + ' nats per letter'));
  const stepRaw = raw.length === 1 + (obj.steps || []).length ? raw.slice(1) : [];
  let before = '';
  steps.replaceChildren(...(obj.steps || []).map((s, i) => {
    const li = stepItem(s, stepRaw[i], before);
    if (s.symbol !== null) before += s.symbol;
    return li;
  }));
}

// One symbol of a scored name: the letter, a bar as long as its probability.
function stepItem(step, raw, before) {
  const li = el('li', step.symbol === null ? 'step end' : 'step');
  const p = Math.exp(step.logprob);
  li.dataset.symbol = step.symbol === null ? '' : step.symbol;
  li.dataset.logprob = raw !== undefined ? raw : String(step.logprob);
  li.style.setProperty('--p', p.toFixed(4));
  const what = step.symbol === null ? 'the end of the name' : '\u201c' + step.symbol + '\u201d';
  const after = before === '' ? 'first' : 'after \u201c' + before + '\u201d';
  const text = what + ' ' + after + ': ' + percent(step.logprob) + ' (log-probability ' + li.dataset.logprob + ')';
  li.title = text;
  li.setAttribute('aria-label', text);
  const sym = el('span', 'sym', step.symbol === null ? '\u23ce' : step.symbol === ' ' ? '\u2423' : step.symbol);
  sym.setAttribute('aria-hidden', 'true');
  const bar = el('span', 'bar');
  bar.style.setProperty('--w', (p * 100).toFixed(2) + '%');
  bar.setAttribute('aria-hidden', 'true');
  const pct = el('span', 'pct', percent(step.logprob).replace('\u202f%', '%'));
  pct.setAttribute('aria-hidden', 'true');
  li.append(sym, bar, pct);
  return li;
}

const lanes = {
  best: new Lane({
    name: 'best',
    answer: showBest,
    slow() {
      setNote('best-note', ['searching\u2026 the search is still going (it stops at its bound, --max-expansions); you can stop it']);
      $('best-stop').hidden = false;
      $('best-list').setAttribute('aria-busy', 'true'); // the names shown are an older input's
    },
    stopped() {
      $('best-stop').hidden = true;
      $('best-list').removeAttribute('aria-busy');
      setNote('best-note', ['stopped']);
    },
    fail(e) { setError('best', [e.message]); $('best-stop').hidden = true; },
  }),
  sample: new Lane({
    name: 'sample',
    answer: showSample,
    slow() {
      setNote('sample-note', ['drawing\u2026 still going (it stops at its bound, --max-draws); you can stop it']);
      $('sample-stop').hidden = false;
    },
    stopped() {
      $('sample-stop').hidden = true;
      setNote('sample-note', ['stopped']);
    },
    fail(e) { setError('sample', [e.message]); $('sample-stop').hidden = true; },
  }),
  score: new Lane({
    name: 'score',
    answer: showScore,
    slow() { $('score-result').textContent = 'scoring\u2026'; },
    stopped() {},
    fail(e) { setError('score', [e.message]); },
  }),
};

function refreshBest() {
  if (state.model) lanes.best.submit(bestArgs());
}

function sample() {
  if (!state.model) {
    setError('sample', ['no model loaded: pick a checkpoint']);
    return;
  }
  lanes.sample.submit(sampleArgs());
}

function score() {
  const name = value('score-name');
  if (!state.model || name.trim() === '') return;
  lanes.score.submit(scoreArgs(name));
}

// --- models and names ----------------------------------------------------------

function describe() {
  const m = state.model;
  if (!m) return 'No model loaded: pick a checkpoint, or drop one on the page.';
  const i = m.info || {};
  const parts = [(i.cell || '?') + ', ' + i.layers + ' \u00d7 ' + i.hidden +
    ' (layers \u00d7 hidden)'];
  if (i.members > 1) parts.push(i.members + ' members');
  if (i.symbols) parts.push(i.symbols + ' symbols');
  if (i.labels && i.labels.length) parts.push('labels: ' + i.labels.join(', '));
  if (i.keep_case) parts.push('keeps case');
  let text = 'Model ' + m.name + ': ' + parts.join(', ') + '.';
  text += state.names
    ? ' Training names: ' + state.names.name + ' (' + state.names.count + ').'
    : ' No training names loaded (for \u201conly new names\u201d).';
  return text;
}

function showStatus(text) {
  $('model-status').textContent = text || describe();
}

// Sends the current model and names to a (new) worker.
async function loadIntoEngine() {
  if (!state.model) return;
  const a = await engine.request({ type: 'load', bytes: state.model.bytes, name: state.model.name });
  if (!a.ok) throw new Error(a.error || 'the model could not be loaded again');
  if (state.names) await engine.request({ type: 'names', bytes: state.names.bytes, name: state.names.name });
}

function setLabels(labels) {
  const select = $('label');
  const previous = select.value;
  const options = [new Option('all kinds', '')].concat((labels || []).map((l) => new Option(l, l)));
  select.replaceChildren(...options);
  select.value = (labels || []).includes(previous) ? previous : '';
  $('label-field').hidden = !(labels && labels.length);
}

async function loadModel(bytes, name) {
  showStatus('Loading ' + name + '\u2026');
  const before = ready;
  const answer = (async () => {
    await before.catch(() => {});
    return engine.request({ type: 'load', bytes, name });
  })();
  ready = answer.catch(() => {});
  let a;
  try {
    a = await answer;
  } catch (e) {
    if (e instanceof Restarted) return loadModel(bytes, name); // a search was stopped meanwhile
    setError('load', [e.message]);
    showStatus();
    return false;
  }
  if (!a.ok) {
    setError('load', [a.error || 'could not load ' + name]);
    // The worker may have dropped the previous model: give it back.
    if (state.model) ready = loadIntoEngine().catch(() => {});
    showStatus(state.model ? 'Could not load ' + name + '; still using ' + state.model.name + '. ' + describe() : undefined);
    return false;
  }
  setError('load', []);
  state.model = { bytes, name, info: a.info || {} };
  setLabels(state.model.info.labels);
  showStatus();
  $('best-list').replaceChildren();
  $('sample-list').replaceChildren();
  $('score-steps').replaceChildren();
  $('score-result').textContent = '';
  refreshBest();
  sample();
  score();
  return true;
}

async function loadNames(bytes, name) {
  const before = ready;
  const answer = (async () => {
    await before.catch(() => {});
    return engine.request({ type: 'names', bytes, name });
  })();
  ready = answer.catch(() => {});
  let a;
  try {
    a = await answer;
  } catch (e) {
    if (e instanceof Restarted) return loadNames(bytes, name);
    setError('load', [e.message]);
    return;
  }
  if (!a.ok) {
    setError('load', [a.error || 'could not read ' + name]);
    return;
  }
  const text = new TextDecoder().decode(bytes);
  const count = text.split(/\r?\n/).filter((l) => l.trim() !== '').length;
  state.names = { bytes, name, count };
  $('novel').disabled = false;
  showStatus();
  if ($('novel').checked) refreshBest();
}

function isCheckpoint(bytes) {
  const head = new Uint8Array(bytes, 0, Math.min(8, bytes.byteLength));
  return String.fromCharCode(...head) === CKPT_MAGIC;
}

async function openFile(file, as) {
  const bytes = await file.arrayBuffer();
  let kind = as;
  if (!kind) kind = !isCheckpoint(bytes) && /\.(txt|tsv|csv)$/i.test(file.name) ? 'names' : 'model';
  if (kind === 'names') await loadNames(bytes, file.name);
  else await loadModel(bytes, file.name);
}

async function loadDefaults() {
  // Both fetched at once; the model is loaded first, so the names wait for it.
  const names = fetch('dinos.txt').then((r) => (r.ok ? r.arrayBuffer() : null), () => null);
  try {
    const r = await fetch('model.ckpt');
    if (!r.ok) throw new Error('model.ckpt: ' + r.status + ' ' + r.statusText);
    await loadModel(await r.arrayBuffer(), 'model.ckpt');
  } catch (e) {
    showStatus('No default model (' + e.message + '): pick a checkpoint, or drop one on the page.');
  }
  // Without names, "only new names" stays off until the user gives them.
  const bytes = await names;
  if (bytes) await loadNames(bytes, 'dinos.txt');
}

// --- wiring ------------------------------------------------------------------

function wireDrop() {
  const overlay = $('drop-overlay');
  let depth = 0;
  const hasFiles = (e) => e.dataTransfer && [...e.dataTransfer.types].includes('Files');
  window.addEventListener('dragenter', (e) => {
    if (!hasFiles(e)) return;
    depth++;
    overlay.hidden = false;
  });
  window.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) overlay.hidden = true;
  });
  window.addEventListener('dragover', (e) => {
    if (hasFiles(e)) e.preventDefault();
  });
  window.addEventListener('drop', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth = 0;
    overlay.hidden = true;
    const file = e.dataTransfer.files[0];
    if (file) openFile(file, null);
  });
}

function wire() {
  // No delay: the first keystroke runs at once, and those typed while it
  // runs are folded into one run of the latest input (Lane).
  for (const id of ['prefix', 'suffix', 'contains', 'exclude', 'pattern', 'min-length', 'max-length', 'k', 'max-expansions']) {
    $(id).addEventListener('input', refreshBest);
  }
  $('novel').addEventListener('change', refreshBest);
  $('label').addEventListener('change', () => {
    refreshBest();
    if (value('score-name').trim() !== '') score();
  });
  $('best-form').addEventListener('submit', (e) => {
    e.preventDefault();
    refreshBest();
  });
  $('sample-form').addEventListener('submit', (e) => {
    e.preventDefault();
    sample();
  });
  $('score-form').addEventListener('submit', (e) => {
    e.preventDefault();
    score();
  });
  $('best-stop').addEventListener('click', () => lanes.best.stop());
  $('sample-stop').addEventListener('click', () => lanes.sample.stop());
  $('model-file').addEventListener('change', (e) => {
    if (e.target.files[0]) openFile(e.target.files[0], 'model');
  });
  $('names-file').addEventListener('change', (e) => {
    if (e.target.files[0]) openFile(e.target.files[0], 'names');
  });
  wireDrop();
}

function start() {
  engine = new Engine('worker.js', () => showStatus());
  wire();
  loadDefaults();
}

start();

/* dinornn-core.js: the logic of web/worker.js, also run by node in
 * tests/cli-web.sh: one instance of dinornn-sample compiled to WebAssembly
 * (web/dinornn.js), a checkpoint and the training names in its memory file
 * system, and dinornn-sample's main run once per request, its standard
 * output, error and exit status captured (docs/web.md). */
(function (root) {
  'use strict';

  const MODEL = '/model.ckpt', NAMES = '/names.txt';
  /* A run that exits early (an error) leaves what it allocated behind: the
   * instance is made afresh after one, and after this many runs anyway. */
  const RUNS_PER_INSTANCE = 1000;

  const now = typeof performance === 'object' ? () => performance.now() : () => Date.now();

  /* createModule: createDinornn of web/dinornn.js. */
  function DinornnCore(createModule) {
    this.createModule = createModule;
    this.model = null;  /* the checkpoint's bytes (Uint8Array) */
    this.names = null;  /* the training names' bytes, for --novel */
    this.out = [];
    this.err = [];
    this.ready = null;  /* a promise of the instance */
    this.runs = 0;
    this.instances = 0; /* made so far: for the tests */
  }

  /* A new instance with the files written into it. Under node, the handlers
   * emscripten adds to process for each instance are taken off again. */
  DinornnCore.prototype.fresh = function () {
    const self = this;
    const events = ['uncaughtException', 'unhandledRejection'];
    const before = typeof process === 'object' && process.listeners
      ? events.map(e => process.listeners(e)) : null;
    this.runs = 0;
    this.instances++;
    this.ready = this.createModule({
      thisProgram: 'dinornn-sample', /* argv[0], which getopt's messages name */
      print: line => self.out.push(line),
      printErr: line => self.err.push(line)
    }).then(function (mod) {
      if (before)
        events.forEach(function (e, i) {
          process.listeners(e).forEach(function (l) {
            if (before[i].indexOf(l) < 0) process.removeListener(e, l);
          });
        });
      if (self.model) mod.FS.writeFile(MODEL, self.model);
      if (self.names) mod.FS.writeFile(NAMES, self.names);
      return mod;
    });
    return this.ready;
  };

  DinornnCore.prototype.instance = function () {
    return this.ready || this.fresh();
  };

  /* Runs f(mod) with output captured: {status, out, err, ms}. */
  DinornnCore.prototype.capture = function (mod, f) {
    this.out = [];
    this.err = [];
    const t0 = now();
    let status;
    try {
      status = f(mod);
    } catch (e) {
      /* An abort (out of memory, a trap) ends the instance. */
      this.err.push(String(e && e.message || e));
      status = 1;
      this.ready = null;
    }
    if (typeof process === 'object' && process.exitCode !== undefined)
      process.exitCode = undefined; /* emscripten's exit() sets it under node */
    return {status: status, out: this.out, err: this.err, ms: now() - t0};
  };

  /* A checkpoint (bytes: ArrayBuffer or Uint8Array): {ok: true, info} or
   * {ok: false, error}, in dinornn-sample's words (the file named name when
   * given); a failed load keeps the model loaded before. */
  DinornnCore.prototype.load = async function (bytes, name) {
    const mod = await this.instance();
    const data = new Uint8Array(bytes);
    mod.FS.writeFile(MODEL, data);
    const r = this.capture(mod, m => m.ccall('drnn_web_describe', 'number', ['string'], [MODEL]));
    if (r.status !== 0) {
      if (this.model) mod.FS.writeFile(MODEL, this.model);
      else mod.FS.unlink(MODEL);
      const error = r.err.join('\n');
      return {ok: false, error: name ? error.split(MODEL + ':').join(name + ':') : error};
    }
    this.model = data;
    return {ok: true, info: JSON.parse(r.out.join(''))};
  };

  /* The training names, for --novel. */
  DinornnCore.prototype.setNames = async function (bytes) {
    const mod = await this.instance();
    this.names = new Uint8Array(bytes);
    mod.FS.writeFile(NAMES, this.names);
    return {ok: true};
  };

  /* dinornn-sample with args (strings) on the loaded checkpoint, and
   * --data with the names given for --novel: {status, out, err, ms}. */
  DinornnCore.prototype.run = async function (args) {
    const mod = await this.instance();
    if (!this.model)
      return {status: 1, out: [], err: ['dinornn-sample: no model is loaded'], ms: 0};
    const argv = ['-c', MODEL];
    if (this.names && args.indexOf('--novel') >= 0)
      argv.push('--data', NAMES);
    const r = this.capture(mod, function (m) {
      m._drnn_web_reset();
      return m.callMain(argv.concat(args.map(String)));
    });
    if (r.status !== 0 || ++this.runs >= RUNS_PER_INSTANCE || !this.ready)
      this.fresh(); /* ready for the next request */
    return r;
  };

  /* One message of the worker's protocol: its answer (without the id). */
  DinornnCore.prototype.handle = async function (msg) {
    switch (msg.type) {
      case 'load': return this.load(msg.bytes, msg.name);
      case 'names': return this.setNames(msg.bytes);
      case 'run': return this.run(msg.args || []);
      default: return {ok: false, error: 'unknown message type: ' + msg.type};
    }
  };

  if (typeof module === 'object' && module.exports)
    module.exports = {DinornnCore: DinornnCore};
  else
    root.DinornnCore = DinornnCore;
})(typeof self !== 'undefined' ? self : this);

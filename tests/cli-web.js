/* cli-web.js: tests/cli-web.sh's comparison, in node: each case (one JSON
 * object a line in CASES: {model, names, args} or {model, load: "fails"})
 * run by web/dinornn-core.js on web/dinornn.js and by the native
 * dinornn-sample, whose exit status, standard output and standard error
 * must be the same (the native file names read as the worker's,
 * /model.ckpt and /names.txt), but for the last digits of numbers (see
 * canonical).
 * Usage: node cli-web.js DINORNN-SAMPLE WEB-DIR CASES */
'use strict';
const fs = require('fs');
const path = require('path');
const {spawnSync} = require('child_process');

if (process.argv.length !== 5) {
  console.error('usage: node cli-web.js DINORNN-SAMPLE WEB-DIR CASES');
  process.exit(2);
}
const [sample, webDir, casesFile] = process.argv.slice(2);
const {DinornnCore} = require(path.resolve(webDir, 'dinornn-core.js'));
const createDinornn = require(path.resolve(webDir, 'dinornn.js'));

const cases = fs.readFileSync(casesFile, 'utf8').split('\n').filter(l => l.trim())
  .map(l => JSON.parse(l));
const cores = new Map();
let passed = 0, failed = 0;
const ok = what => { passed++; console.log('ok   ' + what); };
const bad = what => { failed++; console.log('FAIL ' + what); };
const lines = text => text.split('\n').filter((l, i, a) => i < a.length - 1 || l !== '');

/* The same text, but for the numbers' last digits: the native build runs
 * the vector kernels (fused multiply-adds, another order of the sums), the
 * web build the reference loops, so log-probabilities agree to about 1e-7
 * (float) and not to the 17 digits JSON prints; a search's memory in MB
 * differs with the pointer size; getopt's own messages are musl's in the
 * web build, glibc's natively. */
const NUM = /-?\d+\.\d+(?:e[-+]?\d+)?/g;
function canonical(line) {
  return line.replace(/^\S*\/dinornn-sample:/, 'dinornn-sample:') /* getopt's argv[0] */
    .replace(/\d+ MB\b/g, 'N MB')
    .replace(/unrecognized option: (\S+)/, "unrecognized option '--$1'")
    .replace(NUM, '#');
}
function sameLines(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (canonical(a[i]) !== canonical(b[i])) return false;
    const x = a[i].match(NUM) || [], y = b[i].match(NUM) || [];
    for (let j = 0; j < x.length; j++)
      if (Math.abs(x[j] - y[j]) > 2e-4 + 1e-6 * Math.abs(y[j])) return false;
  }
  return true;
}

/* The core for a model (and its names), loaded once. */
async function coreFor(c) {
  const key = c.model + '\0' + (c.names || '');
  if (!cores.has(key)) {
    const core = new DinornnCore(createDinornn);
    const t0 = Date.now();
    const r = await core.load(fs.readFileSync(c.model), c.model);
    if (!r.ok) throw new Error('cannot load ' + c.model + ': ' + r.error);
    if (c.names) await core.setNames(fs.readFileSync(c.names));
    console.log('# loaded ' + path.basename(path.dirname(c.model)) + ' in ' + (Date.now() - t0) +
                ' ms: ' + JSON.stringify(r.info));
    cores.set(key, core);
  }
  return cores.get(key);
}

function native(c, args) {
  const data = c.names && args.indexOf('--novel') >= 0 ? ['--data', c.names] : [];
  const r = spawnSync(sample, ['-c', c.model].concat(data, args), {encoding: 'buffer'});
  let err = r.stderr.toString('utf8').split(c.model).join('/model.ckpt');
  if (c.names) err = err.split(c.names).join('/names.txt');
  return {status: r.status, out: r.stdout, err: err};
}

async function runCase(c) {
  const what = path.basename(path.dirname(c.model)) + ': ' + (c.args || ['load']).join(' ');
  if (c.load === 'fails') {
    const core = new DinornnCore(createDinornn);
    const r = await core.load(fs.readFileSync(c.model), c.model);
    const n = spawnSync(sample, ['-c', c.model, '--best', '1'], {encoding: 'utf8'});
    if (r.ok) return bad(what + ': the worker loaded it');
    if (n.status !== 1 || n.stderr !== r.error + '\n')
      return bad(what + ': native says (' + n.status + ') ' + n.stderr + ', the worker ' + r.error);
    return ok(what + ': the same error');
  }
  const core = await coreFor(c);
  const w = await core.run(c.args);
  const n = native(c, c.args);
  const wOut = Buffer.from(w.out.map(l => l + '\n').join(''), 'utf8');
  if (w.status !== n.status)
    return bad(what + ': status ' + w.status + ', native ' + n.status + ': ' + w.err.join(' / '));
  const exact = wOut.equals(n.out);
  if (!exact && !sameLines(w.out, lines(n.out.toString('utf8'))))
    return bad(what + ': standard output differs:\n  web:    ' +
               JSON.stringify(w.out.slice(0, 4)) + '\n  native: ' +
               JSON.stringify(lines(n.out.toString('utf8')).slice(0, 4)));
  if (!sameLines(w.err, lines(n.err)))
    return bad(what + ': standard error differs:\n  web:    ' + JSON.stringify(w.err) +
               '\n  native: ' + JSON.stringify(lines(n.err)));
  if (c.expect_out && !c.expect_out.every(s => w.out.join('\n').indexOf(s) >= 0))
    return bad(what + ': the output lacks ' + JSON.stringify(c.expect_out));
  if (c.expect_err && !c.expect_err.every(s => w.err.join('\n').indexOf(s) >= 0))
    return bad(what + ': standard error lacks ' + JSON.stringify(c.expect_err));
  ok(what + ' (status ' + w.status + ', ' + w.out.length + ' lines' +
     (exact ? ', the same bytes' : '') + ', ' + w.ms.toFixed(1) + ' ms)');
}

(async () => {
  for (const c of cases) {
    try {
      await runCase(c);
    } catch (e) {
      bad(JSON.stringify(c) + ': ' + (e && e.stack || e));
    }
  }
  /* An error makes the instance afresh; the model stays loaded. */
  const some = cores.values().next().value;
  if (some) {
    const before = some.instances;
    const e = await some.run(['--prefix', '\u0001']);
    const r = await some.run(['--best', '1']);
    if (e.status === 0 || some.instances !== before + 1 || r.status !== 0 || r.out.length !== 1)
      bad('after an error: a new instance (' + (some.instances - before) + '), the model kept: ' +
          JSON.stringify(r));
    else
      ok('after an error, a new instance with the model still loaded');
  }
  console.log(passed + ' passed, ' + failed + ' failed');
  process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
})();

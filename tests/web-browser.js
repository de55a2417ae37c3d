// web-browser.js SITE EXPECT SHOT: drives Debian's chromium (playwright-core)
// against the page in SITE, served here on localhost, and checks what it
// shows against dinornn-sample's own answers (EXPECT/*.json, written by
// tests/web-browser.sh from the native program on the same checkpoints).
// Saves a screenshot to SHOT and looks at it. Prints "ok ..." or "FAIL ..."
// lines; exits 1 when any check failed.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const { chromium } = require('playwright-core');

const [site, expectDir, shot] = process.argv.slice(2);
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css',
  '.ckpt': 'application/octet-stream', '.txt': 'text/plain', '.png': 'image/png' };
let failed = 0;
const ok = (what) => console.log('ok   ' + what);
const bad = (what) => { failed++; console.log('FAIL ' + what); };
const expected = (name) => fs.readFileSync(path.join(expectDir, name), 'utf8')
  .split('\n').filter((l) => l).map((l) => JSON.parse(l));

function serve() {
  const server = http.createServer((req, res) => {
    const file = path.join(site, decodeURIComponent(req.url.split('?')[0]).replace(/\/$/, '/index.html'));
    if (!file.startsWith(site) || !fs.existsSync(file)) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// The same log-probability: the page runs the reference kernels
// (WebAssembly), the native build its vector kernels, whose sums differ in
// order; names must be equal, scores within 1e-6 relative.
const close = (a, b) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));

// Waits until the page shows the answer to args (data-*-args), then reads the list.
async function shown(page, lane, args, list) {
  const want = JSON.stringify(args);
  await page.waitForFunction(([l, w]) => document.body.dataset[l + 'Args'] === w, [lane, want],
    { timeout: 20000 });
  return page.$$eval('#' + list + ' li', (lis) => lis.map((li) => ({
    name: li.dataset.name, logprob: li.dataset.logprob, label: li.dataset.label })));
}

function compareNames(what, got, want, withScores) {
  const names = (xs) => xs.map((x) => x.name).join(' ');
  if (got.length !== want.length || names(got) !== names(want)) {
    bad(what + ': page [' + names(got) + '], dinornn-sample [' + names(want) + ']');
    return;
  }
  if (withScores) {
    for (let i = 0; i < got.length; i++)
      if (!close(Number(got[i].logprob), want[i].logprob)) {
        bad(what + ': ' + got[i].name + ' ' + got[i].logprob + ', dinornn-sample ' + want[i].logprob);
        return;
      }
  }
  ok(what + ' (' + got.length + ' names' + (withScores ? ', scores within 1e-6' : '') + ')');
}

async function setField(page, id, value) {
  await page.fill('#' + id, value);
}

async function bestChecks(page) {
  // Typed letter by letter: the list follows, and ends as dinornn-sample's.
  await page.click('#prefix');
  await page.keyboard.type('ty', { delay: 30 });
  let got = await shown(page, 'best', ['--format=json', '--best=10', '--prefix=ty'], 'best-list');
  compareNames('prefix "ty" typed: the top 10', got, expected('best-ty.json'), true);
  await setField(page, 'prefix', '');
  await setField(page, 'suffix', 'rus');
  await setField(page, 'k', '5');
  got = await shown(page, 'best', ['--format=json', '--best=5', '--suffix=rus'], 'best-list');
  compareNames('--suffix rus: the top 5', got, expected('best-rus.json'), true);
  await setField(page, 'suffix', '');
  await setField(page, 'k', '10');
  // A search that reaches its bound says so, in the command line's words.
  await setField(page, 'max-expansions', '5');
  await shown(page, 'best', ['--format=json', '--best=10', '--max-expansions=5'], 'best-list');
  const note = await page.textContent('#best-note');
  if (note.includes('the search stopped at its bound'))
    ok('a search that reaches its bound says so: "' + note.trim().slice(0, 60) + '..."');
  else
    bad('--max-expansions 5: the note says "' + note + '"');
  await setField(page, 'max-expansions', '');
}

async function sampleAndScore(page) {
  await setField(page, 'temperature', '0.8');
  await setField(page, 'seed', '7');
  await setField(page, 'count', '5');
  await page.click('#sample-button');
  const got = await shown(page, 'sample', ['--format=json', '--count=5', '--temperature=0.8', '--seed=7'],
    'sample-list');
  compareNames('seeded sample (--count 5 --temperature 0.8 --seed 7)', got, expected('sample.json'), false);
  await setField(page, 'score-name', 'tyrannosaurus');
  await page.press('#score-name', 'Enter');
  await page.waitForFunction(() => (document.body.dataset.scoreArgs || '').includes('tyrannosaurus'),
    null, { timeout: 20000 });
  const want = expected('score.json')[0];
  const total = Number(await page.getAttribute('#score-result', 'data-logprob'));
  const steps = await page.$$eval('#score-steps li', (lis) => lis.map((li) => [li.dataset.symbol, Number(li.dataset.logprob)]));
  const stepsOk = steps.length === want.steps.length && steps.every(([sym, lp], i) =>
    sym === (want.steps[i].symbol === null ? '' : want.steps[i].symbol) && close(lp, want.steps[i].logprob));
  if (close(total, want.logprob) && stepsOk)
    ok('score of tyrannosaurus and its ' + steps.length + ' steps, letter by letter');
  else
    bad('score: page ' + total + ' ' + JSON.stringify(steps) + ', dinornn-sample ' + JSON.stringify(want));
}

async function labelChecks(page, labeled) {
  await page.setInputFiles('#model-file', labeled);
  await page.waitForFunction(() => !document.getElementById('label-field').hidden, null, { timeout: 20000 });
  await page.selectOption('#label', 'saurus');
  await setField(page, 'prefix', 'a');
  const got = await shown(page, 'best', ['--format=json', '--best=10', '--prefix=a', '--label=saurus'],
    'best-list');
  compareNames('a labeled model, --label saurus, prefix "a"', got, expected('best-label.json'), true);
  await setField(page, 'prefix', '');
}

async function errorChecks(page, damaged) {
  await page.setInputFiles('#model-file', damaged);
  const want = fs.readFileSync(path.join(expectDir, 'damaged.err'), 'utf8').trim();
  try {
    await page.waitForFunction((w) => document.getElementById('error').textContent.includes(w), want,
      { timeout: 20000 });
    ok('a damaged checkpoint: the page says "' + want + '"');
  } catch (e) {
    bad('a damaged checkpoint: page says "' + await page.textContent('#error') + '", want "' + want + '"');
  }
}

// The screenshot is looked at: drawn into a canvas, it must have many colours
// (not blank), and the page's text must hold the names shown.
async function screenshotChecks(page, browser) {
  await page.screenshot({ path: shot, fullPage: true });
  const png = fs.readFileSync(shot).toString('base64');
  const view = await browser.newPage();
  const colours = await view.evaluate(async (data) => {
    const img = new Image();
    img.src = 'data:image/png;base64,' + data;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width; c.height = img.height;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const px = g.getImageData(0, 0, c.width, c.height).data;
    const seen = new Set();
    for (let i = 0; i < px.length; i += 4 * 97) seen.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
    return seen.size;
  }, png);
  await view.close();
  const text = await page.innerText('body');
  const want = expected('best-ty.json')[0].name;
  if (colours > 20 && text.includes(want))
    ok('screenshot ' + path.basename(shot) + ': ' + colours + ' colours, the text shows "' + want + '"');
  else
    bad('screenshot: ' + colours + ' colours; "' + want + '" in the text: ' + text.includes(want));
}

async function main() {
  const server = await serve();
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'] });
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.on('pageerror', (e) => bad('a script error on the page: ' + e.message));
  try {
    await page.goto('http://127.0.0.1:' + server.address().port + '/');
    await page.waitForFunction(() => /model\.ckpt:.*symbols/.test(document.getElementById('model-status').textContent),
      null, { timeout: 30000 });
    ok('the page loads the default model: ' + (await page.textContent('#model-status')).trim());
    await bestChecks(page);
    await sampleAndScore(page);
    // The screenshot of these answers, before other models are loaded.
    await setField(page, 'prefix', 'ty');
    await shown(page, 'best', ['--format=json', '--best=10', '--prefix=ty'], 'best-list');
    await screenshotChecks(page, browser);
    await setField(page, 'prefix', '');
    await labelChecks(page, path.join(expectDir, 'labeled.ckpt'));
    await errorChecks(page, path.join(expectDir, 'damaged.ckpt'));
  } catch (e) {
    bad('the browser run stopped: ' + e.message);
  } finally {
    await browser.close();
    server.close();
  }
  console.log(failed ? failed + ' failed' : 'all passed');
  process.exit(failed ? 1 : 0);
}

main();

// onnx_step.js: scores names with an ONNX export of dinornn in ONNX Runtime,
// one step at a time (tests/cli-onnx.sh).
//
// usage: node onnx_step.js MODEL.onnx METADATA.json NAMES
//
// METADATA.json is the model's metadata_props as one JSON object
// (tests/onnx_check.py writes it). NAMES has one name a line, "name" or,
// for a labeled model, "name<TAB>label". All the names run together, as
// one batch, from zero states: the first step reads END (0), the next ones
// the name's symbols; a name's log-probability is the sum of those of c1 ..
// cn and END. Prints one JSON line a name, in order: {"name", "label" (the
// label's index; labeled models), "logprob"}. Exit 1 on an error, 2 on bad
// usage.
'use strict';
const fs = require('fs');

function usage(msg) {
  if (msg) process.stderr.write(`onnx_step.js: ${msg}\n`);
  process.stderr.write('usage: node onnx_step.js MODEL.onnx METADATA.json NAMES\n');
  process.exit(2);
}

// The names as tokens (and labels) by the model's vocabulary.
function readNames(path, meta) {
  const symbols = Array.from(meta.symbols);
  const labels = meta.label_names ? JSON.parse(meta.label_names) : [];
  const keepCase = meta.keep_case === '1';
  const names = [];
  for (const line of fs.readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const [text, label] = line.split('\t');
    let name = text.trim().normalize('NFC');
    if (!keepCase) name = name.toLowerCase().normalize('NFC');
    const tokens = Array.from(name).map((c) => {
      const t = symbols.indexOf(c);
      if (t < 0) throw new Error(`${JSON.stringify(text)}: ${JSON.stringify(c)} is not in the vocabulary`);
      return t + 1;
    });
    const entry = { name: text.trim(), tokens };
    if (labels.length) {
      entry.label = labels.indexOf((label || '').trim());
      if (entry.label < 0) throw new Error(`${JSON.stringify(text)}: no label of the model`);
    }
    names.push(entry);
  }
  return names;
}

async function main(argv) {
  if (argv.length !== 3) usage();
  const ort = require('onnxruntime-node');
  const meta = JSON.parse(fs.readFileSync(argv[1], 'utf8'));
  const names = readNames(argv[2], meta);
  const B = names.length, V = +meta.vocab, H = +meta.hidden;
  const rows = +meta.members * +meta.layers, lstm = meta.cell === 'lstm';
  const session = await ort.InferenceSession.create(argv[0]);
  let h = new Float32Array(rows * B * H), c = new Float32Array(rows * B * H);
  const sum = new Float64Array(B);
  const T = Math.max(...names.map((n) => n.tokens.length)) + 1;
  for (let t = 0; t < T; t++) {
    // Step t reads END (t = 0) or symbol t, and predicts symbol t + 1 or END.
    const read = names.map((n) => BigInt(t === 0 || t > n.tokens.length ? 0 : n.tokens[t - 1]));
    const feeds = {
      symbol: new ort.Tensor('int64', BigInt64Array.from(read), [B]),
      h: new ort.Tensor('float32', h, [rows, B, H]),
    };
    if (lstm) feeds.c = new ort.Tensor('float32', c, [rows, B, H]);
    if (meta.label_names)
      feeds.label = new ort.Tensor('int64', BigInt64Array.from(names.map((n) => BigInt(n.label))), [B]);
    const out = await session.run(feeds);
    const lp = out.logprobs;
    if (lp.dims.join() !== [B, V].join()) throw new Error(`logprobs of shape ${lp.dims}`);
    names.forEach((n, i) => {
      if (t <= n.tokens.length) sum[i] += lp.data[i * V + (t < n.tokens.length ? n.tokens[t] : 0)];
    });
    h = out.h_out.data;
    if (lstm) c = out.c_out.data;
  }
  names.forEach((n, i) => {
    const o = { name: n.name };
    if (n.label !== undefined) o.label = n.label;
    o.logprob = sum[i];
    process.stdout.write(JSON.stringify(o) + '\n');
  });
}

main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(`onnx_step.js: ${e.message}\n`);
  process.exit(1);
});

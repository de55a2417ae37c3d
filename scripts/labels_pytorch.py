#!/usr/bin/env python3
"""Names by kind on PyTorch's side, for issue 29's benchmark ("Measured,
beside PyTorch"): what dinornn's labeled model is compared with.

    /usr/bin/python3 scripts/labels_pytorch.py --train TRAIN --val VAL [--json OUT]

TRAIN and VAL hold `name<TAB>label` lines (scripts/split_labeled.py makes
them). Names are read as dinornn reads them: white space trimmed, NFC,
lowercased, NFC again; labels NFC, kept as written, sorted by their bytes.
The vocabulary is the end symbol plus the sorted symbols of both files, and a
name c1..cn is inputs [END, c1..cn] -> targets [c1..cn, END] from a zero
state, as in scripts/quality_pytorch.py. The models, each trained the
usual way (no dropout, Adam, global-norm clip 5, shuffled mini-batches of
padded names whose padding the loss ignores, a fixed number of epochs, the
held-out figure after every epoch, the best epoch kept):

  conditional    the generator of PyTorch's "generating names with a
                 character-level RNN" tutorial done properly: the label's
                 one-hot concatenated with every input one-hot, an nn.GRU,
                 a Linear to the symbols; best epoch by held-out loss
  conditional-all  (not run by default) the same with the label's one-hot
                 joined to the input of every layer, not only the first:
                 L single-layer GRUs, layer l > 0 reading [h^{l-1}, one-hot];
                 what conditioning every layer would add
  unconditional  the same without the label: what the label adds
  classifier     the tutorial "classifying names with a character-level
                 RNN", as a GRU: it reads the name's symbols, a Linear on
                 the last layer's last state gives the label's logits,
                 cross-entropy; best epoch by held-out accuracy
and, from the conditional model's best epoch, the Bayes classifier
argmax_k log share_k + log P(name | k), share_k being label k's share of the
training names (what dinornn-sample --classify computes).

Losses are nats per predicted symbol, the end of a name counting as one:
per label, the nats of its held-out names over their symbols; overall, the
nats of all held-out names over all their symbols. Accuracy: the share of
held-out lines whose label is the one predicted (a name listed under two
labels is a line for each, so it cannot be right on both).

--time-limit stops each model's training once that many seconds have passed
(checked after every mini-batch; the cut epoch is scored and marked
partial), keeping its best epoch so far. Prints a table; --json writes every
figure, the epochs, the seconds of each, and torch's version and threads.
"""
import argparse
import copy
import json
import os
import random
import sys
import time
import unicodedata

# Waiting OpenMP threads that spin slow every other process on a loaded
# machine, and this one when it has fewer cores than threads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402  (after the environment it reads)
import torch.nn as nn  # noqa: E402
from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence  # noqa: E402

EVAL_BATCH = 256
MODELS = ("conditional", "conditional-all", "unconditional", "classifier")


def nfc(s):
    return unicodedata.normalize("NFC", s)


def read(path):
    """[(name, label)] of a name<TAB>label file, normalised as dinornn does."""
    rows = []
    with open(path, encoding="utf-8", newline="") as f:
        for number, raw in enumerate(f, 1):
            line = raw.rstrip("\r\n")
            if not line.strip():
                continue
            fields = line.split("\t")
            name = nfc(nfc(fields[0].strip()).lower()) if len(fields) == 2 else ""
            if not name or not fields[1]:
                sys.exit("labels_pytorch: %s:%d: expected name<TAB>label (one tab, both non-empty)"
                         % (path, number))
            rows.append((name, nfc(fields[1])))
    if not rows:
        sys.exit("labels_pytorch: %s: no names" % path)
    return rows


class Data:
    """Both files as index sequences: symbols (0 = end) and labels."""

    def __init__(self, train, val):
        self.labels = sorted({l for _, l in train}, key=lambda s: s.encode("utf-8"))
        lindex = {l: i for i, l in enumerate(self.labels)}
        unknown = sorted({l for _, l in val} - set(lindex))
        if unknown:
            sys.exit("labels_pytorch: validation labels without training names: %s"
                     % ", ".join(unknown))
        symbols = sorted(set("".join(n for n, _ in train + val)))
        index = {c: i + 1 for i, c in enumerate(symbols)}
        self.V, self.K = len(symbols) + 1, len(self.labels)
        encode = lambda rows: [[0] + [index[c] for c in n] + [0] for n, _ in rows]  # noqa: E731
        self.train, self.val = encode(train), encode(val)
        self.train_labels = [lindex[l] for _, l in train]
        self.val_labels = [lindex[l] for _, l in val]
        counts = [0] * self.K
        for k in self.train_labels:
            counts[k] += 1
        self.train_counts = counts
        self.log_shares = torch.log(torch.tensor(counts, dtype=torch.float64) / len(train))


class Generator(nn.Module):
    """A char GRU; with K > 0 labels, the label's one-hot joins every input."""

    def __init__(self, vocab, labels, hidden, layers):
        super().__init__()
        self.vocab, self.labels = vocab, labels
        self.rnn = nn.GRU(vocab + labels, hidden, layers, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, x, label):
        h = nn.functional.one_hot(x, self.vocab).float()
        if self.labels:
            c = nn.functional.one_hot(label, self.labels).float()
            h = torch.cat([h, c.unsqueeze(1).expand(-1, x.shape[1], -1)], dim=2)
        h, _ = self.rnn(h)
        return self.out(h)  # [B, T, V]


class GeneratorAll(nn.Module):
    """The conditional GRU with the label's one-hot joined to the input of
    every layer: L single-layer GRUs, layer l > 0 reading [h^{l-1}, one-hot]
    (nn.GRU's stacked form only feeds the label to the first)."""

    def __init__(self, vocab, labels, hidden, layers):
        super().__init__()
        self.vocab, self.labels = vocab, labels
        self.rnn = nn.ModuleList(nn.GRU((vocab if l == 0 else hidden) + labels, hidden,
                                        batch_first=True) for l in range(layers))
        self.out = nn.Linear(hidden, vocab)

    def forward(self, x, label):
        c = nn.functional.one_hot(label, self.labels).float()
        c = c.unsqueeze(1).expand(-1, x.shape[1], -1)
        h = nn.functional.one_hot(x, self.vocab).float()
        for rnn in self.rnn:
            h, _ = rnn(torch.cat([h, c], dim=2))
        return self.out(h)  # [B, T, V]


class Classifier(nn.Module):
    """A char GRU that reads a name; a Linear on its last state gives the label."""

    def __init__(self, vocab, labels, hidden, layers):
        super().__init__()
        self.vocab = vocab
        self.rnn = nn.GRU(vocab, hidden, layers, batch_first=True)
        self.out = nn.Linear(hidden, labels)

    def forward(self, x, lengths):
        h = nn.functional.one_hot(x, self.vocab).float()
        _, last = self.rnn(pack_padded_sequence(h, lengths, batch_first=True,
                                                enforce_sorted=False))
        return self.out(last[-1])  # [B, K]


def gen_batch(seqs, labels):
    inputs = pad_sequence([torch.tensor(s[:-1]) for s in seqs], batch_first=True)
    targets = pad_sequence([torch.tensor(s[1:]) for s in seqs], batch_first=True,
                           padding_value=-1)
    return inputs, targets, torch.tensor(labels)


def cls_batch(seqs, labels):
    """The names' symbols without the end markers, their lengths, labels."""
    inputs = pad_sequence([torch.tensor(s[1:-1]) for s in seqs], batch_first=True)
    return inputs, torch.tensor([len(s) - 2 for s in seqs]), torch.tensor(labels)


def name_nats(model, inputs, targets, label):
    """Nats of each name of the batch under label (a tensor [B])."""
    logits = model(inputs, label)
    nll = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                      ignore_index=-1, reduction="none")
    return nll.reshape(targets.shape).sum(dim=1)


def score_generator(model, data):
    """Held-out nats and symbols per label, as two lists."""
    nats, chars = [0.0] * data.K, [0] * data.K
    model.eval()
    with torch.no_grad():
        for b in range(0, len(data.val), EVAL_BATCH):
            seqs, labels = data.val[b:b + EVAL_BATCH], data.val_labels[b:b + EVAL_BATCH]
            inputs, targets, label = gen_batch(seqs, labels)
            per_name = name_nats(model, inputs, targets, label)
            for k, n, s in zip(labels, per_name.tolist(), seqs):
                nats[k] += n
                chars[k] += len(s) - 1
    model.train()
    return nats, chars


def bayes(model, data):
    """Labels predicted by argmax_k log share_k + log P(name | k)."""
    predicted = []
    model.eval()
    with torch.no_grad():
        for b in range(0, len(data.val), EVAL_BATCH):
            inputs, targets, _ = gen_batch(data.val[b:b + EVAL_BATCH], [0])
            logp = torch.stack([-name_nats(model, inputs, targets,
                                           torch.full((inputs.shape[0],), k, dtype=torch.long))
                                for k in range(data.K)], dim=1).double()
            predicted += (logp + data.log_shares).argmax(dim=1).tolist()
    model.train()
    return predicted


def classify(model, data):
    """Labels the classifier predicts for the held-out names."""
    predicted = []
    model.eval()
    with torch.no_grad():
        for b in range(0, len(data.val), EVAL_BATCH):
            inputs, lengths, _ = cls_batch(data.val[b:b + EVAL_BATCH], [0])
            predicted += model(inputs, lengths).argmax(dim=1).tolist()
    model.train()
    return predicted


def gen_step(model, data, idx):
    inputs, targets, label = gen_batch([data.train[i] for i in idx],
                                       [data.train_labels[i] for i in idx])
    logits = model(inputs, label)
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                       ignore_index=-1)


def cls_step(model, data, idx):
    inputs, lengths, label = cls_batch([data.train[i] for i in idx],
                                       [data.train_labels[i] for i in idx])
    return nn.functional.cross_entropy(model(inputs, lengths), label)


def gen_figure(model, data):
    nats, chars = score_generator(model, data)
    return sum(nats) / sum(chars)


def accuracy(predicted, data):
    return sum(p == k for p, k in zip(predicted, data.val_labels)) / len(data.val_labels)


def train(name, model, data, step, figure, args, higher_is_better):
    """Trains for args.epochs epochs (or until args.time_limit), scoring the
    held-out names after each; leaves the model at its best epoch and returns
    the record of the run."""
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    rng = random.Random(args.seed)
    epochs, best, best_state = [], None, None
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        order = list(range(len(data.train)))
        rng.shuffle(order)
        t0, partial = time.perf_counter(), False
        for b in range(0, len(order), args.batch):
            loss = step(model, data, order[b:b + args.batch])
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            if args.time_limit and time.perf_counter() - start > args.time_limit:
                partial = b + args.batch < len(order)
                break
        t1 = time.perf_counter()
        value = figure(model, data)
        t2 = time.perf_counter()
        epochs.append(dict(epoch=epoch, value=round(value, 6), train_seconds=round(t1 - t0, 3),
                           score_seconds=round(t2 - t1, 3), seconds=round(t2 - start, 3),
                           partial=partial))
        if best is None or (value > best["value"] if higher_is_better else value < best["value"]):
            best, best_state = epochs[-1], copy.deepcopy(model.state_dict())
        print("labels_pytorch: %-13s epoch %2d%s %.4f  %.1f s + %.1f s scoring"
              % (name, epoch, "*" if partial else " ", value, t1 - t0, t2 - t1),
              file=sys.stderr, flush=True)
        if args.time_limit and time.perf_counter() - start > args.time_limit:
            break
    model.load_state_dict(best_state)
    full = [e for e in epochs if not e["partial"]]
    return dict(epochs=epochs, best_epoch=best["epoch"], epochs_run=len(epochs),
                seconds=round(time.perf_counter() - start, 3),
                seconds_to_best=best["seconds"],
                seconds_per_epoch=round(sum(e["train_seconds"] + e["score_seconds"] for e in full)
                                        / len(full), 3) if full else None)


def per_label_loss(model, data):
    nats, chars = score_generator(model, data)
    rows = {l: dict(loss=round(nats[k] / chars[k], 6) if chars[k] else None,
                    names=data.val_labels.count(k), chars=chars[k])
            for k, l in enumerate(data.labels)}
    return round(sum(nats) / sum(chars), 6), rows


def per_label_accuracy(predicted, data):
    rows = {}
    for k, l in enumerate(data.labels):
        mine = [p for p, t in zip(predicted, data.val_labels) if t == k]
        rows[l] = round(sum(p == k for p in mine) / len(mine), 6) if mine else None
    return round(accuracy(predicted, data), 6), rows


def run_generator(data, args, labeled, name):
    torch.manual_seed(args.seed)
    kind = GeneratorAll if name == "conditional-all" else Generator
    model = kind(data.V, data.K if labeled else 0, args.hidden, args.layers)
    rec = train(name, model, data, gen_step, gen_figure, args, False)
    rec["loss"], rec["per_label"] = per_label_loss(model, data)
    if labeled:
        rec["bayes_accuracy"], rec["bayes_per_label"] = per_label_accuracy(bayes(model, data), data)
    return rec


def run_classifier(data, args):
    torch.manual_seed(args.seed)
    model = Classifier(data.V, data.K, args.hidden, args.layers)
    rec = train("classifier", model, data, cls_step,
                lambda m, d: accuracy(classify(m, d), d), args, True)
    rec["accuracy"], rec["per_label"] = per_label_accuracy(classify(model, data), data)
    return rec


def table(data, result):
    """The figures as a small text table on stdout (a conditional-all column
    only when that model ran)."""
    print("labels_pytorch: torch %s, %d threads; %d training names, %d held out, %d labels, "
          "%d symbols" % (result["torch"], result["threads"], len(data.train), len(data.val),
                          data.K, data.V - 1))
    gens = [(m, head, w) for m, head, w in (("conditional", "conditional", 12),
                                            ("conditional-all", "cond-all", 9),
                                            ("unconditional", "unconditional", 13))
            if m != "conditional-all" or m in result]
    c, k = result.get("conditional"), result.get("classifier")
    fmt = "%-14s %7s %7s " + " ".join("%%%ds" % w for _, _, w in gens) + " %10s %7s"
    print(fmt % (("label", "names", "share") + tuple(h for _, h, _ in gens)
                 + ("classifier", "Bayes")))
    num = lambda x, f="%.4f": "-" if x is None else f % x  # noqa: E731
    loss = lambda r, l: num(r and r["per_label"][l]["loss"])  # noqa: E731
    for i, l in enumerate(data.labels):
        share = "%.3f" % (data.train_counts[i] / len(data.train))
        print(fmt % ((l[:14], data.val_labels.count(i), share)
                     + tuple(loss(result.get(m), l) for m, _, _ in gens)
                     + (num(k and k["per_label"][l]), num(c and c["bayes_per_label"][l]))))
    print(fmt % (("all", len(data.val), "1")
                 + tuple(num(result.get(m) and result[m]["loss"]) for m, _, _ in gens)
                 + (num(k and k["accuracy"]), num(c and c["bayes_accuracy"]))))
    run = lambda r: "-" if r is None else "%d/%d" % (r["best_epoch"], r["epochs_run"])  # noqa: E731
    print(fmt % (("best epoch", "", "") + tuple(run(result.get(m)) for m, _, _ in gens)
                 + (run(k), "")))
    per = lambda r: "-" if r is None else num(r["seconds_per_epoch"], "%.1f s")  # noqa: E731
    print(fmt % (("per epoch", "", "") + tuple(per(result.get(m)) for m, _, _ in gens)
                 + (per(k), "")))
    print("(losses: held-out nats per symbol, the end counted; classifier and Bayes: accuracy)")


def blas_library():
    """The BLAS library torch runs on (Debian's python3-torch uses whatever
    libblas.so.3 points to; the reference BLAS is about 5 times slower here
    than OpenBLAS: apt-get install libopenblas0-openmp)."""
    torch.ones(2, 2) @ torch.ones(2, 2)
    try:
        with open("/proc/self/maps", encoding="utf-8") as f:
            paths = {line.split()[-1] for line in f if "blas" in line.split()[-1]}
    except OSError:
        return None
    return ", ".join(sorted(os.path.realpath(p) for p in paths)) or None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", required=True, help="name<TAB>label training file")
    ap.add_argument("--val", required=True, help="name<TAB>label held-out file")
    ap.add_argument("--epochs", type=int, default=15, help="epochs per model (default 15)")
    ap.add_argument("--hidden", type=int, default=128, help="GRU width (default 128)")
    ap.add_argument("--layers", type=int, default=2, help="GRU layers (default 2)")
    ap.add_argument("--batch", type=int, default=32, help="names per mini-batch (default 32)")
    ap.add_argument("--lr", type=float, default=3e-3, help="Adam's learning rate (default 3e-3)")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--seed", type=int, default=1, help="initialisation and shuffles (default 1)")
    ap.add_argument("--time-limit", type=float, default=0,
                    help="seconds of training per model, the best epoch so far kept (0: none)")
    ap.add_argument("--models", default="conditional,unconditional,classifier",
                    help="which to train, comma-separated (default all three)")
    ap.add_argument("--json", help="write every figure to this file")
    args = ap.parse_args()
    models = args.models.split(",")
    bad = set(models) - set(MODELS)
    if bad or args.epochs < 1 or args.batch < 1 or args.hidden < 1 or args.layers < 1:
        ap.error("--models takes %s; --epochs, --batch, --hidden and --layers at least 1"
                 % ", ".join(MODELS))
    torch.set_num_threads(args.threads)
    data = Data(read(args.train), read(args.val))
    blas = blas_library()
    if blas and "openblas" not in blas and "mkl" not in blas:
        print("labels_pytorch: torch runs on %s, the reference BLAS: several times slower than "
              "OpenBLAS (apt-get install libopenblas0-openmp)" % blas, file=sys.stderr)
    result = dict(torch=torch.__version__, threads=torch.get_num_threads(),
                  omp_wait_policy=os.environ.get("OMP_WAIT_POLICY"), blas=blas,
                  train=args.train, val=args.val, labels=data.labels,
                  train_names=data.train_counts, val_names=[data.val_labels.count(k)
                                                            for k in range(data.K)],
                  symbols=data.V - 1,
                  settings=dict(epochs=args.epochs, hidden=args.hidden, layers=args.layers,
                                batch=args.batch, lr=args.lr, optimizer="adam", clip=5.0,
                                dropout=0.0, seed=args.seed, time_limit=args.time_limit))
    for m in MODELS:
        if m in models:
            result[m] = (run_classifier(data, args) if m == "classifier"
                         else run_generator(data, args, m != "unconditional", m))
    table(data, result)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1, ensure_ascii=False)
            f.write("\n")


if __name__ == "__main__":
    main()

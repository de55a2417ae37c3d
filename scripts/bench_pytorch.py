#!/usr/bin/env python3
"""The dinornn benchmark configurations in PyTorch, for scripts/bench --vs-pytorch.

Mirrors dinornn's model and framing: names lowercased, vocabulary = end marker
+ sorted symbols, a name c1..cn is inputs [END, c1..cn] -> targets
[c1..cn, END] from a zero state; one-hot inputs to a stacked tanh RNN, LSTM or
GRU, a linear output layer, cross-entropy averaged over the real characters of
the mini-batch (padding excluded), global-norm clipping, then the optimizer.
Prints one JSON line per configuration with training characters per second.

Written the way PyTorch runs fastest on a CPU, so that the ratio does not
flatter dinornn: mini-batches padded on the right and run unpacked, the
padded targets ignored by the loss (the same gradient as packed sequences:
padding comes after every real step; up to 45% faster than packing here,
never measurably slower), and 50 mini-batches of warm-up before the clock
starts.
"""
import argparse
import json
import random
import time

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pad_sequence

CONFIGS = {
    "a": dict(cell="rnn", layers=1, hidden=50, batch=1, opt="sgd", lr=0.01, epochs=1),
    "b": dict(cell="rnn", layers=2, hidden=128, batch=32, opt="adam", lr=3e-3, epochs=1),
    "c": dict(cell="rnn", layers=3, hidden=256, batch=64, opt="adam", lr=2e-3, epochs=1),
    "d": dict(cell="lstm", layers=2, hidden=128, batch=32, opt="adam", lr=3e-3, epochs=1),
    "e": dict(cell="gru", layers=2, hidden=128, batch=32, opt="adam", lr=3e-3, epochs=1),
    # dinornn-train's defaults: (e) with inverted dropout 0.3 between the
    # layers and before the output layer.
    "default": dict(cell="gru", layers=2, hidden=128, batch=32, opt="adam", lr=3e-3, epochs=1,
                    dropout=0.3),
}


class Model(nn.Module):
    def __init__(self, cell, vocab, hidden, layers, dropout=0.0):
        super().__init__()
        rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.vocab = vocab
        self.rnn = rnn(vocab, hidden, layers, batch_first=True, dropout=dropout)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, x):
        h, _ = self.rnn(nn.functional.one_hot(x, self.vocab).float())
        return self.out(self.drop(h)).reshape(-1, self.vocab)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/dinos.txt")
    ap.add_argument("--config", default="a,b,c,d,e")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=0)
    ap.add_argument("--steps", type=int, default=0,
                    help="stop after this many timed mini-batches (a speed figure from part "
                         "of an epoch of a large file)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    random.seed(1)

    names = [l.strip().lower() for l in open(args.data, encoding="utf-8") if l.strip()]
    symbols = sorted(set("".join(names)))
    index = {c: i + 1 for i, c in enumerate(symbols)}
    V = len(symbols) + 1
    seqs = [[0] + [index[c] for c in n] + [0] for n in names]

    for key in args.config.split(","):
        cfg = CONFIGS[key]
        model = Model(cfg["cell"], V, cfg["hidden"], cfg["layers"], cfg.get("dropout", 0.0))
        opt = (torch.optim.SGD if cfg["opt"] == "sgd" else torch.optim.Adam)(
            model.parameters(), lr=cfg["lr"])
        lossf = nn.CrossEntropyLoss(reduction="mean", ignore_index=-1)
        epochs = args.epochs or cfg["epochs"]

        def step(batch):
            inputs = pad_sequence([torch.tensor(s[:-1]) for s in batch], batch_first=True)
            targets = pad_sequence([torch.tensor(s[1:]) for s in batch], batch_first=True,
                                   padding_value=-1)
            loss = lossf(model(inputs), targets.reshape(-1))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            return loss, sum(len(s) - 1 for s in batch)

        for b in range(50):
            step([seqs[random.randrange(len(seqs))] for _ in range(cfg["batch"])])
        chars = steps = 0
        start = time.perf_counter()
        for _ in range(epochs):
            order = list(range(len(seqs)))
            random.shuffle(order)
            for b in range(0, len(order), cfg["batch"]):
                if args.steps and steps == args.steps:
                    break
                loss, n = step([seqs[i] for i in order[b:b + cfg["batch"]]])
                chars += n
                steps += 1
        dt = time.perf_counter() - start
        print(json.dumps({"config": key, "threads": args.threads, "chars_per_sec": round(chars / dt),
                          "sec_per_epoch": round(dt / epochs, 3), "steps": steps,
                          "loss": round(float(loss), 4)}, separators=(",", ":")),
              flush=True)


if __name__ == "__main__":
    main()

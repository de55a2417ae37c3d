#!/usr/bin/env python3
"""Configuration (a) as the classic numpy character RNN trains it, for
scripts/bench --vs-pytorch: the reference that dinornn's target for (a) is
quoted against.

One tanh layer of 50 units, column vectors in float64, one name per update:
the forward pass one matrix-vector product per step on one-hot inputs, BPTT
step by step, every gradient clipped to [-5, 5] element by element, then SGD
with learning rate 0.01. Same framing and data as dinornn: names lowercased,
vocabulary = end marker + sorted symbols, inputs [END, c1..cn] -> targets
[c1..cn, END] from a zero state. Prints one JSON line with training
characters per second (each name counts len + 1, as dinornn counts them).
"""
import argparse
import json
import random
import time

import numpy as np


def softmax(z):
    e = np.exp(z - np.max(z))
    return e / e.sum()


def train_name(p, inputs, targets, V, lr):
    Wax, Waa, Wya, b, by = p["Wax"], p["Waa"], p["Wya"], p["b"], p["by"]
    xs, hs, ps = {}, {-1: np.zeros((Waa.shape[0], 1))}, {}
    loss = 0.0
    for t, ix in enumerate(inputs):
        xs[t] = np.zeros((V, 1))
        xs[t][ix] = 1
        hs[t] = np.tanh(Wax @ xs[t] + Waa @ hs[t - 1] + b)
        ps[t] = softmax(Wya @ hs[t] + by)
        loss -= np.log(ps[t][targets[t], 0])
    g = {k: np.zeros_like(v) for k, v in p.items()}
    dh_next = np.zeros_like(hs[0])
    for t in reversed(range(len(inputs))):
        dy = ps[t].copy()
        dy[targets[t]] -= 1
        g["Wya"] += dy @ hs[t].T
        g["by"] += dy
        dh = Wya.T @ dy + dh_next
        draw = (1 - hs[t] * hs[t]) * dh
        g["b"] += draw
        g["Wax"] += draw @ xs[t].T
        g["Waa"] += draw @ hs[t - 1].T
        dh_next = Waa.T @ draw
    for k in p:
        np.clip(g[k], -5, 5, out=g[k])
        p[k] -= lr * g[k]
    return loss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/dinos.txt")
    ap.add_argument("--epochs", type=int, default=1)
    args = ap.parse_args()
    random.seed(1)
    rng = np.random.default_rng(1)

    names = [l.strip().lower() for l in open(args.data, encoding="utf-8") if l.strip()]
    symbols = sorted(set("".join(names)))
    index = {c: i + 1 for i, c in enumerate(symbols)}
    V, H = len(symbols) + 1, 50
    seqs = [[0] + [index[c] for c in n] + [0] for n in names]
    p = {"Wax": rng.standard_normal((H, V)) * 0.01, "Waa": rng.standard_normal((H, H)) * 0.01,
         "Wya": rng.standard_normal((V, H)) * 0.01, "b": np.zeros((H, 1)), "by": np.zeros((V, 1))}

    chars, loss = 0, 0.0
    start = time.perf_counter()
    for _ in range(args.epochs):
        order = list(range(len(seqs)))
        random.shuffle(order)
        for i in order:
            s = seqs[i]
            loss += train_name(p, s[:-1], s[1:], V, 0.01)
            chars += len(s) - 1
    dt = time.perf_counter() - start
    print(json.dumps({"config": "a", "impl": "numpy", "chars_per_sec": round(chars / dt),
                      "sec_per_epoch": round(dt / args.epochs, 3),
                      "loss": round(loss / chars, 4)}, separators=(",", ":")), flush=True)


if __name__ == "__main__":
    main()

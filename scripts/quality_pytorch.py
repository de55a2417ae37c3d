#!/usr/bin/env python3
"""Time to quality on PyTorch's side, for scripts/bench --time-to-quality.

Trains one of bench_pytorch.py's configurations (its model, framing and
optimizer), from the initialisation and shuffles of --seed, on TRAIN for --epochs epochs and after each one scores VAL: the
mean nats per predicted character (the end of a name counts as one), as
dinornn-train's val_loss. Prints one JSON line per epoch with the wall-clock
seconds since training began (training and scoring both counted, as
dinornn-train's --log counts them).
"""
import argparse
import json
import random
import time

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pad_sequence

from bench_pytorch import CONFIGS, Model


def read(path):
    return [l.strip().lower() for l in open(path, encoding="utf-8") if l.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--val", required=True)
    ap.add_argument("--config", default="e")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)

    train, val = read(args.train), read(args.val)
    symbols = sorted(set("".join(train + val)))
    index = {c: i + 1 for i, c in enumerate(symbols)}
    V = len(symbols) + 1
    encode = lambda names: [[0] + [index[c] for c in n] + [0] for n in names]
    seqs, vseqs = encode(train), encode(val)

    cfg = CONFIGS[args.config]
    model = Model(cfg["cell"], V, cfg["hidden"], cfg["layers"])
    opt = (torch.optim.SGD if cfg["opt"] == "sgd" else torch.optim.Adam)(
        model.parameters(), lr=cfg["lr"])
    lossf = nn.CrossEntropyLoss(reduction="mean", ignore_index=-1)
    total = nn.CrossEntropyLoss(reduction="sum", ignore_index=-1)

    def batch_tensors(batch):
        inputs = pad_sequence([torch.tensor(s[:-1]) for s in batch], batch_first=True)
        targets = pad_sequence([torch.tensor(s[1:]) for s in batch], batch_first=True,
                               padding_value=-1)
        return inputs, targets.reshape(-1)

    def val_loss():
        model.eval()
        nats, chars = 0.0, 0
        with torch.no_grad():
            for b in range(0, len(vseqs), 256):
                inputs, targets = batch_tensors(vseqs[b:b + 256])
                nats += float(total(model(inputs), targets))
                chars += int((targets >= 0).sum())
        model.train()
        return nats / chars

    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        order = list(range(len(seqs)))
        random.shuffle(order)
        for b in range(0, len(order), cfg["batch"]):
            inputs, targets = batch_tensors([seqs[i] for i in order[b:b + cfg["batch"]]])
            loss = lossf(model(inputs), targets)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
        v = val_loss()
        print(json.dumps({"epoch": epoch, "val_loss": round(v, 6),
                          "seconds": round(time.perf_counter() - start, 3),
                          "threads": args.threads}, separators=(",", ":")), flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Stratified train/validation split of a labeled names file.

    scripts/split_labeled.py FILE --train TRAIN --val VAL [--val-share 0.1] [--seed 1]

FILE holds one `name<TAB>label` a line (the format of issue 29). For each
label on its own, its lines are shuffled by --seed and the first
floor(share x count + 1/2) go to VAL, the rest to TRAIN, so that every label keeps
its share in both files; a label keeps at least one training line (a label
with one line is in TRAIN only). Lines are written as they were read (without
the line ending, then "\n"), in the order of the file: dinornn and
scripts/labels_pytorch.py normalise the names when they read them. Blank
lines are skipped. The same FILE and --seed give the same two files on any
machine (Python's random.Random is specified to be reproducible for a seed).
Prints the counts per label to stderr.
"""
import argparse
import random
import sys


def parse(path):
    """The non-blank lines of path, with their labels; exits on a line that
    is not name<TAB>label."""
    lines, labels = [], []
    with open(path, encoding="utf-8", newline="") as f:
        for number, raw in enumerate(f, 1):
            line = raw.rstrip("\r\n")
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) != 2 or not fields[0].strip() or not fields[1]:
                sys.exit("split_labeled: %s:%d: expected name<TAB>label (one tab, both non-empty)"
                         % (path, number))
            lines.append(line)
            labels.append(fields[1])
    return lines, labels


def split(labels, share, seed):
    """The set of line indices that go to validation."""
    by_label = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    rng = random.Random(seed)
    val = set()
    # In a fixed order: the draws do not depend on the order of the file.
    for label in sorted(by_label):
        members = by_label[label]
        rng.shuffle(members)
        cut = min(int(share * len(members) + 0.5), len(members) - 1)
        val.update(members[:cut])
    return val, by_label


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file")
    ap.add_argument("--train", required=True, help="where the training lines go")
    ap.add_argument("--val", required=True, help="where the validation lines go")
    ap.add_argument("--val-share", type=float, default=0.1,
                    help="share of each label's lines held out (default 0.1)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if not 0 <= args.val_share < 1:
        sys.exit("split_labeled: --val-share %g: give 0 <= share < 1" % args.val_share)
    lines, labels = parse(args.file)
    val, by_label = split(labels, args.val_share, args.seed)
    with open(args.train, "w", encoding="utf-8", newline="\n") as t, \
            open(args.val, "w", encoding="utf-8", newline="\n") as v:
        for i, line in enumerate(lines):
            (v if i in val else t).write(line + "\n")
    for label in sorted(by_label):
        n = len(by_label[label])
        held = sum(1 for i in by_label[label] if i in val)
        print("split_labeled: %-12s %7d train %6d val" % (label, n - held, held), file=sys.stderr)
    print("split_labeled: %-12s %7d train %6d val" % ("all", len(lines) - len(val), len(val)),
          file=sys.stderr)


if __name__ == "__main__":
    main()

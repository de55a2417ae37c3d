#!/usr/bin/env python3
"""recompute-split.py: the data fingerprint and the validation split of a
checkpoint, computed from docs/checkpoint-format.md ("Names as parsed",
"Data fingerprint", "The validation split") alone.

Usage: recompute-split.py NAMES SEED VAL_FRACTION KEEP_CASE VAL_OUT

Prints the fingerprint of every name of NAMES as 0x%016x and writes the
validation names, one per line in file order, to VAL_OUT.
"""
import sys
import unicodedata

MASK = (1 << 64) - 1
# Unicode's White_Space property (PropList.txt), stripped around names.
WHITE_SPACE = ("\t\n\v\f\r \x85\xa0\u1680" + "".join(chr(c) for c in range(0x2000, 0x200B))
               + "\u2028\u2029\u202f\u205f\u3000")


def parse(path, keep_case):
    with open(path, "rb") as f:
        text = f.read().decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    names = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = unicodedata.normalize("NFC", line.strip(WHITE_SPACE))
        if not keep_case:
            # Python's lower() is Unicode's full, locale-independent mapping.
            line = unicodedata.normalize("NFC", line.lower())
        if line:
            names.append([ord(ch) for ch in line])
    return names


def fingerprint(names):
    h = 0xCBF29CE484222325
    for name in names:
        for c in name + [0]:
            for k in range(4):
                h ^= (c >> (8 * k)) & 0xFF
                h = (h * 0x100000001B3) & MASK
    return h


class Rng:
    def __init__(self, seed):
        x, self.s = seed, []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & MASK
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
            self.s.append(z ^ (z >> 31))

    def next(self):
        s = self.s
        rotl = lambda v, k: ((v << k) | (v >> (64 - k))) & MASK
        r = (rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return r

    def below(self, n):
        limit = MASK - MASK % n
        while True:
            r = self.next()
            if r < limit:
                return r % n


def main(argv):
    if len(argv) != 6:
        sys.stderr.write(__doc__)
        return 2
    names = parse(argv[1], argv[4] == "1")
    print("0x%016x" % fingerprint(names))
    n = len(names)
    n_val = min(int(n * float(argv[3]) + 0.5), n - 1)
    perm = list(range(n))
    rng = Rng(int(argv[2]))
    for i in range(n - 1, 0, -1):
        j = rng.below(i + 1)
        perm[i], perm[j] = perm[j], perm[i]
    val = sorted(perm[:n_val])
    with open(argv[5], "w", encoding="utf-8") as f:
        for i in val:
            f.write("".join(map(chr, names[i])) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""doc-example.py: keeps the worked example of docs/checkpoint-format.md true.

Usage: doc-example.py DOC TRAIN DATA WORKDIR

Runs the dinornn-train command that the example quotes (with the names file
DATA in place of the documented path, and WORKDIR/example as the checkpoint
directory), sets the recorded data path to the documented one (which changes
only path_len, file_size, the path bytes and the CRC-32), and checks against
that file every figure the example quotes: the xxd dump, each row of the
decoded table (bytes and value, typed by the header table), and the sizes,
offsets, first weight and CRC-32 of the prose. The document gives the
trained floats (best_val_loss, the first weight, the CRC-32) for builds with
FMA and 8-float vectors, with AVX-512 (16-float vectors) and without FMA;
the file must match one of them exactly. Prints what
differs and exits 1 if anything does.
"""
import os
import re
import shlex
import struct
import subprocess
import sys
import zlib

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def section(doc, title):
    """The section whose "## " title matches the regular expression title."""
    start = re.search(r"\n## " + title + r"\n", doc).start()
    end = doc.find("\n## ", start + 1)
    return doc[start:end if end >= 0 else len(doc)]


def header_section(doc):
    """The header table's section, "The header (S bytes)", and its S."""
    m = re.search(r"\n## The header \((\d+) bytes\)\n", doc)
    return section(doc, re.escape(m.group(0)[4:-1])), int(m.group(1))


def header_types(doc):
    """offset -> type of the header table (| offset | size | type | field | ...)."""
    types = {}
    for m in re.finditer(r"^\| (\d+) \(0x[0-9a-f]+\) \| (\d+) \| `(\w+(?:\[\d+\])?)` \| `(\w+(?:\[\d\])?)` \|",
                         header_section(doc)[0], re.M):
        types[int(m.group(1))] = (m.group(3), m.group(4))
    return types


def command(example):
    """The documented command's arguments, continuation lines joined."""
    m = re.search(r"^    (dinornn-train .*?[^\\])$", example, re.M | re.S)
    return shlex.split(m.group(1).replace("\\\n", " "))


def value_of(kind, raw):
    if kind == "u32":
        return struct.unpack("<I", raw)[0]
    if kind == "u64":
        return struct.unpack("<Q", raw)[0]
    if kind == "i64":
        return struct.unpack("<q", raw)[0]
    if kind == "f64":
        return struct.unpack("<d", raw)[0]
    return raw.decode("ascii")


def xxd(data, lines):
    out = []
    for at in range(0, 16 * lines, 16):
        chunk = data[at:at + 16]
        hexes = " ".join(chunk[i:i + 2].hex() for i in range(0, 16, 2))
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        out.append("%08x: %s  %s" % (at, hexes, text))
    return out


def main(argv):
    if len(argv) != 5:
        sys.stderr.write(__doc__)
        return 2
    doc_path, train, data, work = argv[1:]
    with open(doc_path, encoding="utf-8") as f:
        doc = f.read()
    example = section(doc, "Worked example")
    args = command(example)
    documented_path = args[args.index("--data") + 1]
    ckdir = os.path.join(work, "example")
    args[args.index("--data") + 1] = data
    args[args.index("--checkpoint-dir") + 1] = ckdir
    # The bytes do not depend on the thread count (the document says so and
    # tests/cli-train.sh checks it); one thread is fastest on a busy machine.
    env = dict(os.environ, OMP_NUM_THREADS="1")
    subprocess.run([train] + args[1:], check=True, env=env)
    with open(os.path.join(ckdir, "latest.ckpt"), "rb") as f:
        written = f.read()
    with open(os.path.join(ckdir, "best.ckpt"), "rb") as f:
        check(f.read() == written, "best.ckpt is not identical to latest.ckpt")

    # The header's size: the section title quotes the largest (version 4's);
    # the example, an unlabeled model, is version 3, whose header ends where
    # the header table's version-4 fields begin.
    S = struct.unpack_from("<I", written, 12)[0]
    title = header_section(doc)[1]
    check(S == title or (S < title and S in header_types(doc)),
          "the header is %d bytes, the document's title says %d and its table has no field at %d"
          % (S, title, S))

    # The recorded path, the only input that depends on where the data is.
    vocab, path_len = struct.unpack_from("<I", written, 28)[0], struct.unpack_from("<I", written, 268)[0]
    path_at = S + 4 * vocab
    recorded = written[path_at:path_at + path_len].decode()
    check(recorded == os.path.realpath(data), "recorded data path %r, not %r" % (recorded, os.path.realpath(data)))
    new_path = documented_path.encode()
    body = bytearray(written[:path_at]) + new_path + written[path_at + path_len:-4]
    struct.pack_into("<I", body, 268, len(new_path))
    struct.pack_into("<Q", body, 16, len(body) + 4)
    ck = bytes(body) + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)

    # Builds that round differently (without FMA, with 16-float vectors):
    # each its own figures, then the rest as for the main ones.
    variants = re.findall(r"A\s+build\s+(with(?:out)?\s+[\w-]+).*?writes\s+the\s+same\s+header\s+except\s+"
                          r"`best_val_loss`,\s+([0-9.]+)\s+\(`([0-9a-f ]+)`\),.*?the\s+first\s+"
                          r"weight\s+is\s+(?:again\s+)?`([0-9a-f ]+)`,.*?the\s+CRC-32\s+is\s+"
                          r"`([0-9a-f ]+)`\s+=\s+(0x[0-9a-f]+)", example, re.S)
    check(any(v[0] == "without FMA" for v in variants), "the figures of a build without FMA are missing")
    build = None
    for name, best_text, best_hex, first_hex, crc_hex, crc_num in variants:
        if ck[200:208] != bytes.fromhex(best_hex):
            continue
        build = name
        best = struct.unpack_from("<d", ck, 200)[0]
        check(float(best_text) == best, "%s: best_val_loss %r, the doc says %s" % (name, best, best_text))
        first = S + 4 * struct.unpack_from("<I", ck, 28)[0] + len(new_path)
        check(ck[first:first + 4] == bytes.fromhex(first_hex),
              "%s: the first weight is %s, the doc says %s" % (name, ck[first:first + 4].hex(" "), first_hex))
        check(ck[-4:] == bytes.fromhex(crc_hex) and int(crc_num, 16) == struct.unpack("<I", ck[-4:])[0],
              "%s: the CRC-32 is %s, the doc says %s = %s" % (name, ck[-4:].hex(" "), crc_hex, crc_num))
        table = re.search(r"^\| 200 \| `([0-9a-f ]+)` \|", example, re.M)
        ck = ck[:200] + bytes.fromhex(table.group(1)) + ck[208:]
        break

    # The dump: as many lines as the command's `head -N`, the whole header.
    dump = re.findall(r"^    ([0-9a-f]{8}: .*)$", example, re.M)
    m = re.search(r"^    xxd \S+ \| head -(\d+)$", example, re.M)
    lines = int(m.group(1)) if m else 0
    check(len(dump) == lines, "the example quotes %d lines of xxd, not the %d of its command" % (len(dump), lines))
    check(16 * lines >= S, "%d lines of xxd do not show the %d-byte header" % (lines, S))
    for quoted, actual in zip(dump, xxd(ck, len(dump))):
        check(quoted == actual, "xxd line differs:\n  doc:    %s\n  actual: %s" % (quoted, actual))

    # The decoded table: bytes, then the value, typed by the header table.
    types = {at: t for at, t in header_types(doc).items() if at < S}
    rows = re.findall(r"^\| (\d+) \| `([0-9a-f ]+)` \| `(\w+(?:\[\d\])?)` \| ([^|]*) \|$", example, re.M)
    check(len(rows) == len(types), "the decoded table has %d rows, the header table %d" % (len(rows), len(types)))
    for offset, hexes, field, value in rows:
        offset = int(offset)
        raw = bytes.fromhex(hexes)
        kind, name = types.get(offset, (None, None))
        check(name == field, "decoded table: offset %d is %s, not %s" % (offset, name, field))
        check(ck[offset:offset + len(raw)] == raw,
              "%s at %d: the doc says %s, the file has %s" % (field, offset, hexes, ck[offset:offset + len(raw)].hex(" ")))
        if kind is None or kind.startswith("bytes") and field != "magic":
            continue  # raw bytes (reserved) have no value besides their bytes
        quoted = value.split()[0].strip("`")
        actual = value_of(kind, raw if kind != "bytes[8]" else ck[offset:offset + 8])
        if kind == "f64":
            ok = float(quoted) == actual
        elif kind == "bytes[8]":
            ok = quoted == actual
        else:
            ok = int(quoted, 0) == actual
        check(ok, "%s: the doc says %s, the file has %r" % (field, quoted, actual))

    # The prose: sizes, offsets, the first weight and the CRC-32.
    V = struct.unpack_from("<I", ck, 28)[0]
    P = struct.unpack_from("<Q", ck, 40)[0]
    weights = S + 4 * V + len(new_path)
    figures = [
        (r"The\s+file\s+is\s+(\d+)\s+bytes", len(ck)),
        (r"from\s+offset\s+(\d+):\s+the\s+vocabulary", S),
        (r"at\s+(\d+)\s+the\s+\d+\s+bytes\s+`", S + 4 * V),
        (r"checks\s+out:\s+(\d+)\s+\+", S),
        (r"at\s+\d+\s+the\s+(\d+)\s+bytes\s+`", len(new_path)),
        (r"at\s+(\d+)\s+the\s+\d+\s+weights", weights),
        (r"at\s+\d+\s+the\s+(\d+)\s+weights", P),
        (r"at\s+(\d+)\s+the\s+\d+\s+values\s+of\s+Adam's\s+`m`", weights + 4 * P),
        (r"at\s+(\d+)\s+the\s+\d+\s+values\s+of\s+`v`", weights + 8 * P),
        (r"and\s+at\s+(\d+)\s+the\s+CRC-32", len(ck) - 4),
        (r"The\s+size\s+checks\s+out:.*?=\s+(\d+)\.", len(ck)),
    ]
    for pattern, actual in figures:
        m = re.search(pattern, example, re.S)
        check(m is not None and int(m.group(1)) == actual,
              "/%s/: the doc says %s, the file gives %d" % (pattern, m and m.group(1), actual))
    m = re.search(r"bytes\s+`([^`]*)`;", example)
    check(m is not None and m.group(1) == documented_path, "the path quoted in the prose is not %s" % documented_path)
    m = re.search(r"the\s+first,\s+`([0-9a-f ]+)`,\s+is\s+`W_x\[0\]\[0\]\[0\]`\s+=\s+(-?[0-9.]+)", example)
    first = ck[weights:weights + 4]
    check(build is not None or m is not None and bytes.fromhex(m.group(1)) == first
          and round(struct.unpack("<f", first)[0], len(m.group(2).split(".")[1])) == float(m.group(2)),
          "first weight: the doc says %s, the file has %s = %.6f"
          % (m and m.groups(), first.hex(" "), struct.unpack("<f", first)[0]))
    m = re.search(r"the\s+CRC-32\s+`([0-9a-f ]+)`\s+=\s+(0x[0-9a-f]+)", example)
    crc = ck[-4:]
    check(build is not None or m is not None and bytes.fromhex(m.group(1)) == crc and int(m.group(2), 16) == struct.unpack("<I", crc)[0],
          "CRC-32: the doc says %s, the file has %s" % (m and m.groups(), crc.hex(" ")))

    for f in failures:
        print("FAIL: docs/checkpoint-format.md, worked example: " + f)
    if not failures:
        print("the worked example is what this build writes (a build %s)" % (build or "with FMA"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

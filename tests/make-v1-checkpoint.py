#!/usr/bin/env python3
"""make-v1-checkpoint.py: writes a format-version-1 checkpoint from a
version-2 one, as the "Version 1" section of docs/checkpoint-format.md
describes that format (offsets 272 to 287, dropout and weight decay, left
out; version 1; header size 272; file size and CRC-32 recomputed). Standard
library only. It made the committed fixtures tests/data/v1-*.ckpt.

Usage: make-v1-checkpoint.py IN.ckpt OUT.ckpt [DATA_PATH]

DATA_PATH, if given, replaces the recorded data path (the fixtures record
"data/dinos.txt", not the absolute path of the machine that made them).
A version-1 run had neither dropout nor weight decay, so IN must have both 0.
"""
import struct
import sys
import zlib

V1_HEADER = 272
V2_HEADER = 288


def main(argv):
    if len(argv) not in (3, 4):
        sys.stderr.write(__doc__)
        return 2
    with open(argv[1], "rb") as f:
        data = f.read()
    if data[:8] != b"DRNNCKPT" or struct.unpack_from("<II", data, 8) != (2, V2_HEADER):
        sys.stderr.write("%s: not a version-2 checkpoint\n" % argv[1])
        return 1
    if zlib.crc32(data[:-4]) & 0xFFFFFFFF != struct.unpack_from("<I", data, len(data) - 4)[0]:
        sys.stderr.write("%s: checksum mismatch\n" % argv[1])
        return 1
    dropout, weight_decay = struct.unpack_from("<dd", data, 272)
    if dropout != 0 or weight_decay != 0:
        sys.stderr.write("%s: dropout %g, weight decay %g: version 1 has neither\n"
                         % (argv[1], dropout, weight_decay))
        return 1
    vocab = struct.unpack_from("<I", data, 28)[0]
    path_len = struct.unpack_from("<I", data, 268)[0]
    path_at = V2_HEADER + 4 * vocab
    path = data[path_at:path_at + path_len]
    if len(argv) == 4:
        path = argv[3].encode("utf-8")
    header = bytearray(data[:V1_HEADER])
    struct.pack_into("<II", header, 8, 1, V1_HEADER)
    struct.pack_into("<I", header, 268, len(path))
    body = data[V2_HEADER:path_at] + path + data[path_at + path_len:-4]
    size = V1_HEADER + len(body) + 4
    struct.pack_into("<Q", header, 16, size)
    out = bytes(header) + body
    out += struct.pack("<I", zlib.crc32(out) & 0xFFFFFFFF)
    with open(argv[2], "wb") as f:
        f.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

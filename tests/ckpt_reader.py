#!/usr/bin/env python3
"""ckpt_reader.py: an independent reader of dinornn checkpoints (format
versions 1 to 4), written from docs/checkpoint-format.md alone. It uses
only the Python standard library and nothing from the project.

Usage: ckpt_reader.py FILE

Prints one JSON object with the decoded header and a summary of the tensors.
A file that breaks a rule of the specification is reported on stderr as
"FILE: <error id>: <reason>" with exit status 1; when the only fault is the
CRC-32, the JSON object (with "crc_ok": false) is still printed first.
Exit status 2 is a usage error.
"""
import json
import math
import struct
import sys
import unicodedata
import zlib

MAGIC = b"DRNNCKPT"
# Header size of each version this reader knows; version 2 appends two f64,
# version 3 the gradient slots (and 4 reserved bytes), the plateau schedule's
# settings and state and the mixture's, version 4 the label table's sizes
# (and 8 reserved bytes).
HEADER_SIZES = {1: 272, 2: 288, 3: 336, 4: 352}
MAX_VERSION = max(HEADER_SIZES)
MAX_PATH = 4096
MAX_VOCAB = 65536
MAX_HIDDEN = 4096
MAX_LAYERS = 16
MAX_BATCH = 8192
MAX_SLOTS = 1024
INT32_MAX = 2**31 - 1
COUNTER_MAX = (2**63 - 1) // 2
# cell value: (name, G gate blocks, R hidden-side bias blocks)
CELLS = {0: ("rnn", 1, 0), 1: ("lstm", 4, 0), 2: ("gru", 3, 1)}
OPTIMIZERS = ["sgd", "adagrad", "adam"]
CLIP_MODES = ["norm", "value"]
SCHEDULES = ["constant", "step", "cosine", "plateau"]
MOMENT1, MOMENT2 = 1, 2

# (name, struct code, offset) for every header field after the magic that
# both versions share (the version-1 header, 272 bytes).
HEADER = [
    ("version", "I", 8), ("header_size", "I", 12), ("file_size", "Q", 16),
    ("cell", "I", 24), ("vocab", "I", 28), ("hidden", "I", 32), ("layers", "I", 36),
    ("param_count", "Q", 40), ("optimizer", "I", 48), ("clip_mode", "I", 52),
    ("schedule", "I", 56), ("batch", "I", 60),
    ("lr", "d", 64), ("momentum", "d", 72), ("beta1", "d", 80), ("beta2", "d", 88),
    ("eps", "d", 96), ("clip", "d", 104), ("step_gamma", "d", 112), ("lr_min", "d", 120),
    ("val_fraction", "d", 128),
    ("step_epochs", "I", 136), ("cosine_epochs", "I", 140), ("seed", "Q", 144),
    ("keep_case", "I", 152), ("has_val_file", "I", 156),
    ("epoch", "Q", 160), ("epoch_pos", "Q", 168), ("step", "Q", 176),
    ("epoch_loss", "d", 184), ("epoch_chars", "Q", 192), ("best_val_loss", "d", 200),
    ("best_epoch", "q", 208),
    ("rng0", "Q", 216), ("rng1", "Q", 224), ("rng2", "Q", 232), ("rng3", "Q", 240),
    ("data_fingerprint", "Q", 248), ("val_fingerprint", "Q", 256),
    ("moment_flags", "I", 264), ("path_len", "I", 268),
]
# Fields that version 2 adds; a version-1 file reads them as 0.
HEADER_V2 = [("dropout", "d", 272), ("weight_decay", "d", 280)]
# Fields that version 3 adds, and what an older file implies for them (older
# files were trained with 8 slots); 292..295 are reserved.
HEADER_V3 = [("slots", "I", 288), ("lr_scale", "d", 296), ("lr_decay_epoch", "q", 304),
             ("lr_patience", "I", 312), ("patience", "I", 316), ("lr_decay", "d", 320),
             ("members", "I", 328), ("member", "I", 332)]
BEFORE_V3 = {"slots": 8, "lr_scale": 1.0, "lr_decay_epoch": -1, "lr_patience": 2, "patience": 0,
             "lr_decay": 0.5, "members": 1, "member": 0}
MAX_MEMBERS = 16
# Fields that version 4 adds (a labeled model); an older file has no labels.
# 344..351 are reserved and must be zero.
HEADER_V4 = [("labels", "I", 336), ("label_bytes", "I", 340), ("reserved_v4", "Q", 344)]
MAX_LABELS = 256
MAX_LABEL_BYTES = 255


class BadCheckpoint(Exception):
    def __init__(self, kind, reason):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def truncated(reason):
    return BadCheckpoint("checkpoint-truncated", reason)


def corrupt(reason):
    return BadCheckpoint("checkpoint-corrupt", reason)


def layout(V, H, L, G, R, N=0):
    """The tensors of the parameter array in order: (name, shape), row-major;
    layers are numbered from 0; a labeled model's W_l (N labels) last."""
    GH = G * H
    out = []
    for layer in range(L):
        out.append(("W_x[%d]" % layer, [V, GH] if layer == 0 else [GH, H]))
        out.append(("W_h[%d]" % layer, [GH, H]))
        out.append(("b[%d]" % layer, [GH]))
        out.append(("b_h[%d]" % layer, [R * H]))
    out.append(("W_y", [V, H]))
    out.append(("b_y", [V]))
    if N:
        out.append(("W_l", [N, GH]))
    return out


def size_of(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def param_count(V, H, L, G, R, N=0):
    return sum(size_of(shape) for _, shape in layout(V, H, L, G, R, N))


def popcount2(flags):
    return (flags & 1) + ((flags >> 1) & 1)


def in_range(x, lo, hi):
    return math.isfinite(x) and lo <= x <= hi


def hparams_ok(h):
    """The value ranges of the hyperparameters (rule 15 of the spec)."""
    return (h["optimizer"] < len(OPTIMIZERS) and h["clip_mode"] < len(CLIP_MODES)
            and h["schedule"] < len(SCHEDULES) and 1 <= h["batch"] <= MAX_BATCH
            and 1 <= h["step_epochs"] <= INT32_MAX and 1 <= h["cosine_epochs"] <= INT32_MAX
            and h["keep_case"] <= 1 and h["has_val_file"] <= 1
            and in_range(h["lr"], 1e-12, 100) and in_range(h["momentum"], 0, 0.999999)
            and in_range(h["beta1"], 0, 0.999999) and in_range(h["beta2"], 0, 0.999999)
            and in_range(h["eps"], 1e-30, 1) and in_range(h["clip"], 0, 1e30)
            and in_range(h["step_gamma"], 1e-12, 1) and in_range(h["lr_min"], 0, h["lr"])
            and in_range(h["val_fraction"], 0, 0.999999)
            and in_range(h["dropout"], 0, 0.99) and in_range(h["weight_decay"], 0, 10)
            and 1 <= h["slots"] <= MAX_SLOTS
            and 1 <= h["lr_patience"] <= 1000 and h["patience"] <= 1000000
            and math.isfinite(h["lr_decay"]) and 0 < h["lr_decay"] <= 1)


def decode(buf):
    """Returns (header dict, vocabulary, data path, tensors, crc_ok), applying
    the validation rules in the order of the specification. A CRC mismatch is
    the error when any later rule fails too; when every later rule holds, it
    does not raise, so that the caller can still show the fields (crc_ok False)."""
    n = len(buf)
    # 1-5: magic, version, the header of that version.
    if n < 8 or buf[:8] != MAGIC:
        if buf[:min(n, 8)] == MAGIC[:min(n, 8)]:
            raise truncated("%d bytes: the file is incomplete" % n)
        raise BadCheckpoint("not-a-checkpoint", "bad magic")
    if n < 12:
        raise truncated("%d bytes" % n)
    version = struct.unpack_from("<I", buf, 8)[0]
    if version not in HEADER_SIZES:
        raise BadCheckpoint("checkpoint-version",
                            "format version %d; this reader reads versions 1 to %d%s"
                            % (version, MAX_VERSION,
                               ": it was written by a newer dinornn" if version > MAX_VERSION
                               else ""))
    header_size = HEADER_SIZES[version]
    if n < header_size:
        raise truncated("%d bytes, the header alone is %d" % (n, header_size))
    fields = (HEADER + (HEADER_V2 if version >= 2 else []) + (HEADER_V3 if version >= 3 else [])
              + (HEADER_V4 if version >= 4 else []))
    h = {name: struct.unpack_from("<" + code, buf, off)[0] for name, code, off in fields}
    h.setdefault("dropout", 0.0)
    h.setdefault("weight_decay", 0.0)
    for key, value in BEFORE_V3.items():
        h.setdefault(key, value)
    for key in ("labels", "label_bytes", "reserved_v4"):
        h.setdefault(key, 0)

    # 6-13: sizes (7: the label table's, version 4).
    if h["header_size"] != header_size:
        raise corrupt("wrong header size %d, version %d has %d"
                      % (h["header_size"], version, header_size))
    # Version 4 holds a labeled model's table: 1 .. 256 labels of 12 bytes and
    # 1 .. 255 more each; its reserved bytes zero.
    NL, TB = h["labels"], h["label_bytes"]
    if version >= 4 and (not 1 <= NL <= MAX_LABELS or not 13 * NL <= TB <= (12 + MAX_LABEL_BYTES) * NL
                         or h["reserved_v4"] != 0):
        raise corrupt("label table sizes out of range")
    V, H, L = h["vocab"], h["hidden"], h["layers"]
    if (h["cell"] not in CELLS or not 2 <= V <= MAX_VOCAB or not 1 <= H <= MAX_HIDDEN
            or not 1 <= L <= MAX_LAYERS or not 1 <= h["members"] <= MAX_MEMBERS):
        raise corrupt("model sizes out of range")
    _, G, R = CELLS[h["cell"]]
    P = param_count(V, H, L, G, R, NL)
    if h["param_count"] != P:
        raise corrupt("parameter count %d, the model sizes give %d" % (h["param_count"], P))
    flags = h["moment_flags"]
    if flags > (MOMENT1 | MOMENT2) or h["path_len"] > MAX_PATH:
        raise corrupt("moment flags or path length out of range")
    K = h["members"] if h["members"] > 1 else 0  # a mixture's members' best weights
    expected = header_size + 4 * V + h["path_len"] + TB + 4 * P * (1 + popcount2(flags) + K) + 4
    if expected >= 2**64 or h["file_size"] != expected:
        raise corrupt("recorded size %d, the header fields give %d" % (h["file_size"], expected))
    if n < expected:
        raise truncated("%d of %d bytes: the file is incomplete" % (n, expected))
    if n > expected:
        raise corrupt("trailing bytes after the checksum")

    # 14: the checksum.
    stored = struct.unpack_from("<I", buf, expected - 4)[0]
    crc_ok = stored == (zlib.crc32(buf[:expected - 4]) & 0xFFFFFFFF)

    try:
        # 15-18: values and relations between them.
        if not hparams_ok(h):
            raise corrupt("hyperparameters out of range")
        opt = h["optimizer"]
        needed = ((MOMENT1 if opt in (0, 2) else 0) | (MOMENT2 if opt in (1, 2) else 0))
        if flags != needed:
            raise corrupt("moment flags %d, optimizer %s needs %d" % (flags, OPTIMIZERS[opt], needed))
        if (max(h["epoch"], h["epoch_pos"], h["step"], h["epoch_chars"]) > COUNTER_MAX
                or not math.isfinite(h["epoch_loss"]) or math.isnan(h["best_val_loss"])
                or h["best_val_loss"] == -math.inf
                or not -1 <= h["best_epoch"] <= h["epoch"]
                or not (math.isfinite(h["lr_scale"]) and 0 < h["lr_scale"] <= 1)
                or not -1 <= h["lr_decay_epoch"] <= h["epoch"]
                or h["member"] >= h["members"]
                or (h["rng0"] | h["rng1"] | h["rng2"] | h["rng3"]) == 0):
            raise corrupt("progress counters out of range")
        if h["has_val_file"] == 0 and h["val_fingerprint"] != 0:
            raise corrupt("a validation fingerprint without a validation file")

        # 19-20: vocabulary and data path.
        at = header_size
        symbols = list(struct.unpack_from("<%dI" % V, buf, at))
        at += 4 * V
        if symbols[0] != 0:
            raise corrupt("vocabulary does not start with END (0)")
        for prev, cp in zip(symbols, symbols[1:]):
            if cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF or cp <= prev:
                raise corrupt("vocabulary is not an ascending list of code points")
        path = buf[at:at + h["path_len"]]
        at += h["path_len"]
        if b"\0" in path:
            raise corrupt("data path holds a NUL byte")

        # 21: the label table (version 4).
        labels = read_labels(buf, at, NL, TB)
        at += TB

        # 22: tensors, all finite.
        tensors = {}
        names = ["weights"] + (["moment1"] if flags & MOMENT1 else []) + (
            ["moment2"] if flags & MOMENT2 else []) + ["member_best[%d]" % k for k in range(K)]
        for name in names:
            values = struct.unpack_from("<%df" % P, buf, at)
            at += 4 * P
            if not all(math.isfinite(x) for x in values):
                raise corrupt("non-finite value in %s" % name)
            tensors[name] = values
        assert at == expected - 4
    except BadCheckpoint:
        if not crc_ok:
            raise corrupt("checksum mismatch (the file was damaged)") from None
        raise
    return h, symbols, path, labels, tensors, crc_ok


def valid_label(raw):
    """1 .. 255 bytes of UTF-8 in NFC without a control character (C0, DEL,
    C1); the text, or None."""
    if not 1 <= len(raw) <= MAX_LABEL_BYTES:
        return None
    try:
        text = raw.decode("utf-8", "strict")
    except UnicodeDecodeError:
        return None
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text):
        return None
    return text if unicodedata.normalize("NFC", text) == text else None


def read_labels(buf, at, count, size):
    """The label table at `at`: per label a u64 count of names (1 .. 2^62-1),
    a u32 length and its bytes, in strictly ascending byte order, exactly
    `size` bytes in all; a list of (text, names)."""
    end = at + size
    out = []
    prev = None
    for _ in range(count):
        if end - at < 12:
            raise corrupt("label table shorter than its recorded size")
        names, n = struct.unpack_from("<QI", buf, at)
        at += 12
        text = valid_label(buf[at:at + n]) if n <= end - at else None
        if not 1 <= names <= COUNTER_MAX or text is None:
            raise corrupt("a label that is empty, too long, not NFC UTF-8 or without names")
        raw = buf[at:at + n]
        at += n
        if prev is not None and raw <= prev:
            raise corrupt("labels not in ascending byte order")
        prev = raw
        out.append((text, names))
    if at != end:
        raise corrupt("label table longer than its labels")
    return out


def summary(h, symbols, path, labels, tensors, crc_ok):
    weights = tensors["weights"]
    best = h["best_val_loss"]
    name, G, R = CELLS[h["cell"]]
    out = {
        "version": h["version"],
        "header_size": h["header_size"],
        "file_size": h["file_size"],
        "cell": name,
        "gates": G,
        "hidden_bias_blocks": R,
        "vocab": h["vocab"],
        "hidden": h["hidden"],
        "layers": h["layers"],
        "param_count": h["param_count"],
        "optimizer": OPTIMIZERS[h["optimizer"]],
        "clip_mode": CLIP_MODES[h["clip_mode"]],
        "schedule": SCHEDULES[h["schedule"]],
        "batch": h["batch"],
    }
    for key in ("lr", "momentum", "beta1", "beta2", "eps", "clip", "step_gamma", "lr_min",
                "val_fraction", "dropout", "weight_decay", "step_epochs", "cosine_epochs",
                "seed", "slots", "lr_patience", "lr_decay", "patience"):
        out[key] = h[key]
    out["keep_case"] = bool(h["keep_case"])
    out["has_val_file"] = bool(h["has_val_file"])
    for key in ("epoch", "epoch_pos", "step", "epoch_loss", "epoch_chars"):
        out[key] = h[key]
    out["best_val_loss"] = best if math.isfinite(best) else None  # +inf: no best yet
    out["best_epoch"] = h["best_epoch"]
    out["lr_scale"] = h["lr_scale"]
    out["lr_decay_epoch"] = h["lr_decay_epoch"]
    out["members"] = h["members"]
    out["member"] = h["member"]
    out["rng_state"] = ["0x%016x" % h["rng%d" % i] for i in range(4)]
    out["data_fingerprint"] = "0x%016x" % h["data_fingerprint"]
    out["val_fingerprint"] = "0x%016x" % h["val_fingerprint"]
    out["moment_flags"] = h["moment_flags"]
    out["data_path"] = path.decode("utf-8", "replace")
    out["vocab_symbols"] = "".join(chr(c) for c in symbols[1:])
    out["labels"] = [{"label": text, "names": names} for text, names in labels]
    out["label_bytes"] = h["label_bytes"]
    # Each tensor of the weights: name, shape and offset (in floats) in the array.
    at = 0
    shapes = []
    for tname, shape in layout(h["vocab"], h["hidden"], h["layers"], G, R, h["labels"]):
        shapes.append({"name": tname, "shape": shape, "offset": at})
        at += size_of(shape)
    out["tensor_layout"] = shapes
    out["n_weights"] = len(weights)
    out["weights_sum"] = float(sum(weights))
    out["tensors"] = sorted(tensors)
    out["crc_ok"] = crc_ok
    return out


def main(argv):
    if len(argv) != 2 or argv[1].startswith("-"):
        sys.stderr.write("usage: ckpt_reader.py FILE\n")
        return 2
    path = argv[1]
    try:
        with open(path, "rb") as f:
            buf = f.read()
    except OSError as e:
        sys.stderr.write("%s: cannot read: %s\n" % (path, e.strerror or e))
        return 1
    try:
        h, symbols, data_path, labels, tensors, crc_ok = decode(buf)
    except BadCheckpoint as e:
        sys.stderr.write("%s: %s: %s\n" % (path, e.kind, e.reason))
        return 1
    print(json.dumps(summary(h, symbols, data_path, labels, tensors, crc_ok), indent=1))
    if not crc_ok:
        sys.stderr.write("%s: checkpoint-corrupt: checksum mismatch (the file was damaged)\n"
                         % path)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

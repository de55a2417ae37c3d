#!/bin/bash
# cli-checkpoint-format.sh: checks that the checkpoints dinornn-train writes
# (format version 3, every cell), a version-2 and a version-4 (labeled) file
# made from one, a version-4 file of the C writer, and the
# committed version-1 fixtures (every cell) follow docs/checkpoint-format.md, by reading them with
# tests/ckpt_reader.py, an independent reader written from that document
# alone; that the programs read the version-1 fixtures; that the document's
# fingerprint and split recompute what the programs do; and that its worked
# example is what dinornn-train writes.
# An automake test: exit 0 pass, 77 skip, anything else fail.
set -u

top_builddir=${top_builddir:-.}
top_srcdir=${top_srcdir:-.}
train=$top_builddir/dinornn-train
eval_=$top_builddir/dinornn-eval
data=$top_srcdir/data/dinos.txt
reader=$top_srcdir/tests/ckpt_reader.py
fixture=$top_srcdir/tests/data/v1-rnn-1x4.ckpt

if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: python3 is not available"
    exit 77
fi
for f in "$train" "$data" "$reader" "$fixture"; do
    if [ ! -e "$f" ]; then
        echo "FAIL: $f does not exist" >&2
        echo "0 passed, 1 failed"
        exit 1
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dinornn-ckfmt.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

# param_count V H L G R: the parameter count of docs/checkpoint-format.md,
# sum over layers of (I_l*GH + GH*H + GH + RH) + V*H + V, I_0 = V, I_l = H.
param_count() {
    local V=$1 H=$2 L=$3 G=$4 R=$5 GH=$(($4 * $2)) P=0 l=0 in
    while [ $l -lt $L ]; do
        if [ $l -eq 0 ]; then in=$V; else in=$H; fi
        P=$((P + in * GH + GH * H + GH + R * H))
        l=$((l + 1))
    done
    echo $((P + V * H + V))
}

# read_ckpt FILE TAG: runs the reader on FILE into $tmp/TAG.json; 0 if it accepted it.
read_ckpt() {
    if python3 "$reader" "$1" >"$tmp/$2.json" 2>"$tmp/$2.err"; then
        ok "$2: ckpt_reader.py read $(basename "$1")"
        return 0
    fi
    bad "$2: ckpt_reader.py refused $1: $(head -c 300 "$tmp/$2.err")"
    return 1
}

# expect TAG NAME EXPECTED: field NAME of $tmp/TAG.json, as JSON, must be
# EXPECTED (strings with their quotes).
expect() {
    local got
    if ! got=$(python3 -c '
import json, sys
with open(sys.argv[1]) as f:
    print(json.dumps(json.load(f)[sys.argv[2]]))
' "$tmp/$1.json" "$2" 2>/dev/null); then
        bad "$1: field $2 missing from the reader's output"
    elif [ "$got" = "$3" ]; then
        ok "$1: $2 = $got"
    else
        bad "$1: $2 is $got, expected $3"
    fi
}

# expect_size TAG FILE HEADER V N P M: the file's real size is the formula
# HEADER + 4V + N + 4P(1 + M) + 4.
expect_size() {
    local want=$(($3 + 4 * $4 + $5 + 4 * $6 * (1 + $7) + 4)) got
    got=$(wc -c <"$2" | tr -d ' ')
    if [ "$got" = "$want" ]; then
        ok "$1: file size $got = $3 + 4*$4 + $5 + 4*$6*(1 + $7) + 4"
    else
        bad "$1: file size $got, the formula gives $want"
    fi
}

# run_train DIR ARGS...: trains into $tmp/DIR; 0 if latest.ckpt was written.
run_train() {
    local dir=$1 status=0
    shift
    # The tanh cell without dropout unless the caller says otherwise.
    "$train" --members 1 --data "$data" --cell rnn --dropout 0 --samples 0 --quiet --checkpoint-dir "$tmp/$dir" "$@" \
        >"$tmp/$dir.out" 2>&1 || status=$?
    if [ $status -ne 0 ]; then
        bad "$dir: dinornn-train exited with status $status: $(head -c 300 "$tmp/$dir.out")"
        return 1
    fi
    if [ ! -f "$tmp/$dir/latest.ckpt" ]; then
        bad "$dir: no latest.ckpt after training"
        return 1
    fi
    ok "$dir: trained, wrote latest.ckpt"
}

# The data path as recorded: the --data file's absolute path.
N=$(printf '%s' "$(realpath "$data")" | wc -c | tr -d ' ')
V=27

# 1. A tanh RNN, 2 layers, 2 epochs (version 3, Adam: M = 2).
if run_train rnn --layers 2 --hidden 8 --epochs 2 --batch 16 --seed 5 &&
    read_ckpt "$tmp/rnn/latest.ckpt" rnn; then
    P=$(param_count $V 8 2 1 0)
    expect rnn crc_ok true
    expect rnn version 3
    expect rnn header_size 336
    expect rnn cell '"rnn"'
    expect rnn epoch 2
    expect rnn layers 2
    expect rnn hidden 8
    expect rnn vocab $V
    expect rnn vocab_symbols '"abcdefghijklmnopqrstuvwxyz"'
    expect rnn batch 16
    expect rnn seed 5
    expect rnn param_count "$P"
    expect rnn n_weights "$P"
    expect rnn optimizer '"adam"'
    expect rnn epoch_pos 0
    expect rnn dropout 0.0
    expect rnn weight_decay 0.0
    expect rnn slots 8
    expect rnn schedule '"plateau"'
    expect rnn lr_patience 2
    expect rnn lr_decay 0.5
    expect rnn patience 6
    expect rnn lr_scale 1.0
    expect rnn lr_decay_epoch -1
    expect rnn data_path "\"$(realpath "$data")\""
    expect_size rnn "$tmp/rnn/latest.ckpt" 336 $V "$N" "$P" 2
fi

# 2. A GRU (G = 3, R = 1) with dropout, weight decay and 5 slots (Adam: M = 2).
if run_train gru --cell gru --layers 2 --hidden 5 --epochs 1 --dropout 0.25 \
    --weight-decay 0.5 --slots 5 && read_ckpt "$tmp/gru/latest.ckpt" gru; then
    P=$(param_count $V 5 2 3 1)
    expect gru crc_ok true
    expect gru version 3
    expect gru slots 5
    expect gru cell '"gru"'
    expect gru layers 2
    expect gru hidden 5
    expect gru param_count "$P"
    expect gru n_weights "$P"
    expect gru dropout 0.25
    expect gru weight_decay 0.5
    expect_size gru "$tmp/gru/latest.ckpt" 336 $V "$N" "$P" 2
fi

# 3. An LSTM (G = 4, R = 0) trained with SGD (M = 1).
if run_train lstm --cell lstm --layers 2 --hidden 3 --epochs 1 --optimizer sgd \
    --momentum 0.5 && read_ckpt "$tmp/lstm/latest.ckpt" lstm; then
    P=$(param_count $V 3 2 4 0)
    expect lstm crc_ok true
    expect lstm version 3
    expect lstm cell '"lstm"'
    expect lstm param_count "$P"
    expect lstm n_weights "$P"
    expect lstm optimizer '"sgd"'
    expect lstm moment_flags 1
    expect lstm dropout 0.0
    expect_size lstm "$tmp/lstm/latest.ckpt" 336 $V "$N" "$P" 1
fi

# 4. The committed version-1 files, one per cell (272-byte header, no dropout
# or weight decay; tests/make-v1-checkpoint.py made the LSTM and GRU ones):
# the reader and the programs take each, and a run resumed from one writes
# version 3 (with what version 1 implied: 8 slots, no early stopping).
for cell in "rnn 1 0" "lstm 4 0" "gru 3 1"; do
    set -- $cell
    v1file=$top_srcdir/tests/data/v1-$1-1x4.ckpt
    tag=v1-$1
    read_ckpt "$v1file" "$tag" || continue
    P=$(param_count 27 4 1 "$2" "$3")
    expect "$tag" crc_ok true
    expect "$tag" version 1
    expect "$tag" header_size 272
    expect "$tag" cell "\"$1\""
    expect "$tag" hidden 4
    expect "$tag" layers 1
    expect "$tag" vocab 27
    expect "$tag" param_count "$P"
    expect "$tag" n_weights "$P"
    expect "$tag" dropout 0.0
    expect "$tag" weight_decay 0.0
    expect "$tag" slots 8
    expect "$tag" schedule '"constant"'
    expect "$tag" patience 0
    expect "$tag" lr_scale 1.0
    expect_size "$tag" "$v1file" 272 27 "$(printf data/dinos.txt | wc -c | tr -d ' ')" "$P" 2
    # As recorded when it was made (to 6 decimals: builds with and without
    # FMA round the last bits differently).
    want=$(sed 's/.*"nats_per_char":\([0-9.]*\).*/\1/' "$top_srcdir/tests/data/v1-$1-1x4.eval.json")
    got=$("$eval_" -c "$v1file" --data "$data" --split val --format json 2>&1)
    if awk -v a="$want" -v b="$(printf '%s' "$got" | sed 's/.*"nats_per_char":\([0-9.]*\).*/\1/')" \
        'BEGIN { d = a - b; exit !(b != "" && d < 1e-6 && d > -1e-6) }'; then
        ok "$tag: dinornn-eval reads it and scores it as recorded ($want)"
    else
        bad "$tag: dinornn-eval gives '$got', recorded $want"
    fi
    if "$train" --members 1 --resume="$v1file" --data "$data" --epochs 3 --quiet --samples 0 --threads 1 \
        --checkpoint-dir "$tmp/$tag" >"$tmp/$tag.out" 2>&1 &&
        [ "$(od -An -tu1 -j8 -N1 "$tmp/$tag/latest.ckpt" | tr -d ' ')" = 3 ] &&
        [ "$(od -An -tu4 -j288 -N4 "$tmp/$tag/latest.ckpt" | tr -d ' ')" = 8 ]; then
        ok "$tag: training resumes from it and writes version 3 with 8 slots"
    else
        bad "$tag: resuming failed: $(head -c 300 "$tmp/$tag.out")"
    fi
done

# 4b. A version-2 file: a version-3 one without offsets 288 to 335, as the
# document's "Version 2" section says, made from a run that holds what
# version 2 implies there (8 slots, the constant schedule, no early
# stopping, one model). The reader and dinornn-train take it with 8 slots,
# and the run resumed from it is the one that never stopped.
v2like=(--layers 2 --hidden 8 --batch 16 --seed 5 --schedule constant --patience 0)
if run_train v2src "${v2like[@]}" --epochs 2 && python3 - "$tmp/v2src/latest.ckpt" "$tmp/v2.ckpt" <<'EOF'
import struct, sys, zlib
d = bytearray(open(sys.argv[1], "rb").read())
assert struct.unpack_from("<II", d, 8) == (3, 336) and struct.unpack_from("<I", d, 288)[0] == 8
# lr_scale, lr_decay_epoch, lr_patience, patience, lr_decay, members, member
assert d[296:336] == struct.pack("<dqIIdII", 1.0, -1, 2, 0, 0.5, 1, 0)
d = d[:288] + d[336:-4]
struct.pack_into("<IIQ", d, 8, 2, 288, len(d) + 4)
open(sys.argv[2], "wb").write(bytes(d) + struct.pack("<I", zlib.crc32(bytes(d)) & 0xFFFFFFFF))
EOF
then
    if read_ckpt "$tmp/v2.ckpt" v2; then
        expect v2 version 2
        expect v2 header_size 288
        expect v2 slots 8
        expect v2 patience 0
        expect v2 members 1
        expect v2 crc_ok true
    fi
    if "$train" --resume="$tmp/v2.ckpt" --data "$data" --epochs 3 --quiet --samples 0 \
        --checkpoint-dir "$tmp/v2run" >"$tmp/v2run.out" 2>&1 &&
        run_train v2ref "${v2like[@]}" --epochs 3 &&
        cmp -s "$tmp/v2run/latest.ckpt" "$tmp/v2ref/latest.ckpt"; then
        ok "v2: a run resumed from it equals the run that never stopped, byte for byte"
    else
        bad "v2: resuming it did not give the uninterrupted run: $(head -c 300 "$tmp/v2run.out")"
    fi
    if "$train" --resume="$tmp/v2.ckpt" --data "$data" --epochs 3 --quiet --samples 0 --slots 4 \
        --checkpoint-dir "$tmp/v2other" >"$tmp/v2other.out" 2>&1; then
        bad "v2: --slots 4 was accepted on resume of a run trained with 8"
    elif grep -q -- '--slots 4 contradicts the checkpoint .*, trained with --slots 8' "$tmp/v2other.out"; then
        ok "v2: --slots 4 contradicts its 8 slots"
    else
        bad "v2: --slots 4 refused, but not as a contradiction: $(head -c 300 "$tmp/v2other.out")"
    fi
else
    bad "could not make a version-2 file"
fi

# 5. Damage one byte in the middle of a copy: the CRC must catch it.
if [ -f "$tmp/rnn/latest.ckpt" ]; then
    cp "$tmp/rnn/latest.ckpt" "$tmp/damaged.ckpt"
    python3 -c '
import sys
path = sys.argv[1]
with open(path, "r+b") as f:
    data = f.read()
    mid = len(data) // 2
    f.seek(mid)
    f.write(bytes([data[mid] ^ 0x5a]))
' "$tmp/damaged.ckpt"
    if cmp -s "$tmp/rnn/latest.ckpt" "$tmp/damaged.ckpt"; then
        bad "the copy was not damaged"
    elif python3 "$reader" "$tmp/damaged.ckpt" >"$tmp/damaged.json" 2>"$tmp/damaged.err"; then
        bad "ckpt_reader.py accepted a checkpoint with a damaged byte (exit 0)"
    elif ! grep -q 'checksum mismatch' "$tmp/damaged.err"; then
        bad "the damaged copy was refused, but not for its checksum: $(head -c 300 "$tmp/damaged.err")"
    elif [ -s "$tmp/damaged.json" ] && ! grep -q '"crc_ok": false' "$tmp/damaged.json"; then
        bad "the damaged copy's JSON does not say crc_ok false"
    else
        ok "a byte flipped in the middle is reported as a checksum mismatch"
    fi

    # 6. A version the reader does not know (5) is refused as such.
    python3 -c '
import struct, sys
with open(sys.argv[1], "rb") as f:
    data = bytearray(f.read())
struct.pack_into("<I", data, 8, 5)
with open(sys.argv[2], "wb") as f:
    f.write(data)
' "$tmp/rnn/latest.ckpt" "$tmp/v5.ckpt"
    if python3 "$reader" "$tmp/v5.ckpt" >/dev/null 2>"$tmp/v5.err"; then
        bad "ckpt_reader.py accepted version 5"
    elif grep -q 'checkpoint-version.*newer dinornn' "$tmp/v5.err"; then
        ok "version 5 is refused as written by a newer dinornn"
    else
        bad "version 5 refused, but not for its version: $(head -c 300 "$tmp/v5.err")"
    fi
fi

# 6b. A version-4 file (a labeled model), made from the version-3 one as the
# document says: 16 more header bytes (label count, table bytes, 8 reserved
# zero bytes), the label table after the data path, W_l (N x GH) after b_y
# in the weights and each moment. The reader takes it; each damage of the
# table that the decoder refuses (tests/check_checkpoint.c does the same to
# a file of the C writer), it refuses too, for the same reason.
if [ -f "$tmp/rnn/latest.ckpt" ] && python3 - "$tmp/rnn/latest.ckpt" "$tmp" <<'EOF'
import struct, sys, zlib
d = open(sys.argv[1], "rb").read()
tmp = sys.argv[2]
assert struct.unpack_from("<II", d, 8) == (3, 336) and struct.unpack_from("<I", d, 24)[0] == 0
V, H, L = struct.unpack_from("<III", d, 28)
P = struct.unpack_from("<Q", d, 40)[0]
flags, N = struct.unpack_from("<II", d, 264)
LABELS = [(b"female", 3), (b"male", 4), (b"\xc3\xa9tang", 1)]  # strictly ascending bytes
GH = 1 * H  # rnn: G = 1
at = 336 + 4 * V + N
tensors = b""
for b in range(1 + bin(flags).count("1")):
    tensors += d[at + 4 * P * b:at + 4 * P * (b + 1)]
    tensors += struct.pack("<%df" % (len(LABELS) * GH), *[0.25 if b == 0 else 0.0] * (len(LABELS) * GH))


def tab(labels, names=None, length=None):
    """The table of labels [(text, names)]; names or length (when given)
    replace label 1's count of names or label 0's length."""
    out = b""
    for i, (t, n) in enumerate(labels):
        n = names if names is not None and i == 1 else n
        k = length if length is not None and i == 0 else len(t)
        out += struct.pack("<QI", n, k) + t
    return out


def build(table, labels=len(LABELS), table_bytes=None, reserved=0):
    h = bytearray(d[:336] + bytes(16))
    body = d[336:at] + table + tensors
    struct.pack_into("<II", h, 8, 4, 352)
    struct.pack_into("<Q", h, 16, 352 + len(body) + 4)
    struct.pack_into("<Q", h, 40, P + len(LABELS) * GH)
    struct.pack_into("<IIQ", h, 336, labels, len(table) if table_bytes is None else table_bytes,
                     reserved)
    out = bytes(h) + body
    return out + struct.pack("<I", zlib.crc32(out) & 0xFFFFFFFF)


def third(text):
    return tab(LABELS[:2] + [(text, 1)])


table = tab(LABELS)
open(tmp + "/v4.ckpt", "wb").write(build(table))
sizes = "label table sizes out of range"
bad_label = "a label that is empty, too long, not NFC UTF-8 or without names"
order = "labels not in ascending byte order"
cases = {
    "labels-0": (build(table, labels=0), sizes),
    "labels-257": (build(table, labels=257), sizes),
    "table-too-small": (build(table, table_bytes=3 * 13 - 1), sizes),
    "table-too-large": (build(table, table_bytes=3 * 267 + 1), sizes),
    "reserved": (build(table, reserved=1 << 56), sizes),
    "empty-label": (build(tab(LABELS, length=0)), bad_label),
    "names-0": (build(tab(LABELS, names=0)), bad_label),
    "names-2^62": (build(tab(LABELS, names=2**62)), bad_label),
    "past-the-table": (build(table[:-18] + struct.pack("<QI", 1, 7) + LABELS[2][0]), bad_label),
    "not-utf8": (build(third(b"\xc3\xa9t\xffng")), bad_label),
    "surrogate": (build(third(b"\xed\xa0\x80ang")), bad_label),
    "control": (build(third(b"\xc3\xa9t\x01ng")), bad_label),
    "c1-control": (build(third(b"\xc2\x85tang")), bad_label),
    "not-nfc": (build(third(b"ze\xcc\x81ng")), bad_label),
    "out-of-order": (build(tab([LABELS[1], LABELS[0], LABELS[2]])), order),
    "equal": (build(tab([LABELS[0], (b"female", 4), LABELS[2]])), order),
    "longer": (build(table + b"x"), "label table longer than its labels"),
    # Two entries (45 bytes, at least 13 a label) where three are recorded.
    "shorter": (build(tab([LABELS[0], (b"male given name", 4)])),
                "label table shorter than its recorded size"),
}
with open(tmp + "/v4-cases", "w") as f:
    for name, (data, why) in cases.items():
        open("%s/v4-%s.ckpt" % (tmp, name), "wb").write(data)
        f.write("%s\t%s\n" % (name, why))
EOF
then
    if read_ckpt "$tmp/v4.ckpt" v4; then
        P=$(param_count $V 8 2 1 0)
        expect v4 crc_ok true
        expect v4 version 4
        expect v4 header_size 352
        expect v4 label_bytes 52
        expect v4 labels '[{"label": "female", "names": 3}, {"label": "male", "names": 4}, {"label": "\u00e9tang", "names": 1}]'
        expect v4 param_count $((P + 3 * 8))
        expect v4 n_weights $((P + 3 * 8))
        if python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["tensor_layout"][-1]
sys.exit(not (t["name"] == "W_l" and t["shape"] == [3, 8] and t["offset"] == int(sys.argv[2])))
' "$tmp/v4.json" "$P"; then
            ok "v4: W_l (3 x 8) after b_y, from float $P"
        else
            bad "v4: W_l is not the last tensor, 3 x 8 from float $P"
        fi
    fi
    while IFS=$'\t' read -r name why; do
        if python3 "$reader" "$tmp/v4-$name.ckpt" >/dev/null 2>"$tmp/v4-$name.err"; then
            bad "v4-$name: the reader accepted it"
        elif grep -q "checkpoint-corrupt: $why" "$tmp/v4-$name.err"; then
            ok "v4-$name: refused ($why)"
        else
            bad "v4-$name: refused, but not for '$why': $(head -c 300 "$tmp/v4-$name.err")"
        fi
    done <"$tmp/v4-cases"
else
    bad "could not make a version-4 file"
fi

# 6c. The version-4 file of the C writer that tests/check_checkpoint makes
# (a labeled GRU: V 6, H 3, L 1, Adam), read by the reader.
if [ -x "$top_builddir/tests/check_checkpoint" ]; then
    rm -f "$tmp/c4.ckpt"
    DRNN_CKPT_V4_SEED=$tmp/c4.ckpt "$top_builddir/tests/check_checkpoint" >"$tmp/c4.out" 2>&1
    P=$(param_count 6 3 1 3 1)
    if [ ! -f "$tmp/c4.ckpt" ]; then
        bad "c4: tests/check_checkpoint wrote no file: $(head -c 300 "$tmp/c4.out")"
    elif [ "$(od -An -tu8 -j40 -N8 "$tmp/c4.ckpt" | tr -d ' ')" = "$P" ]; then
        echo "SKIP c4: this build's parameters have no W_l yet"
    elif read_ckpt "$tmp/c4.ckpt" c4; then
        expect c4 crc_ok true
        expect c4 version 4
        expect c4 labels '[{"label": "female given name", "names": 5}, {"label": "female place name", "names": 7}, {"label": "\u00e9tang", "names": 2}]'
        expect c4 param_count $((P + 3 * 9))
    fi
fi

# 7. The fingerprint and the validation split, recomputed from the document
# alone: the fingerprint is the checkpoint's, and the names it puts in the
# validation part score exactly as dinornn-eval's own --split val.
if [ -f "$tmp/rnn/latest.ckpt" ] &&
    fp=$(python3 "$top_srcdir/tests/recompute-split.py" "$data" 5 0.1 0 "$tmp/val.txt"); then
    expect rnn data_fingerprint "\"$fp\""
    n=$(wc -l <"$tmp/val.txt")
    mine=$("$eval_" -c "$tmp/rnn/latest.ckpt" --data "$tmp/val.txt" --format json 2>&1)
    theirs=$("$eval_" -c "$tmp/rnn/latest.ckpt" --split val --format json 2>&1)
    if [ "$n" -eq 154 ] && [ "$mine" = "$theirs" ]; then
        ok "the documented split gives dinornn-eval's 154 validation names: $mine"
    else
        bad "the documented split ($n names) scores '$mine', --split val '$theirs'"
    fi
else
    bad "recompute-split.py failed"
fi

# 7b. The same for names that only Unicode's rules make equal: decomposed and
# precomposed spellings, white space beyond ASCII's, case beyond Latin-1
# (final sigma, ẞ, Ǆ, Georgian Mtavruli, Cherokee, İ), with and without
# keep_case: the fingerprint recomputed from "Names as parsed" is the
# checkpoint's.
printf '%s\n' $'\302\240Jose\314\201\343\200\200' 'José' $'\316\237\316\224\316\245\316\243\316\243\316\225\316\245\316\243' \
    $'STRA\341\272\236E' $'\307\204emal' $'\341\262\222\341\262\230\341\262\235' $'\341\217\243\341\216\263' \
    $'\304\260smail' $'\342\200\203Nguye\314\202\314\203n\302\240' 'plain' > "$tmp/unicode.txt"
for keep in 0 1; do
    flag=$([ $keep = 1 ] && echo --keep-case)
    if "$train" --members 1 --data "$tmp/unicode.txt" --cell rnn --layers 1 --hidden 2 --epochs 1 --samples 0 \
        --quiet $flag --checkpoint-dir "$tmp/uni$keep" >"$tmp/uni$keep.out" 2>&1 &&
        read_ckpt "$tmp/uni$keep/latest.ckpt" "uni$keep" &&
        fp=$(python3 "$top_srcdir/tests/recompute-split.py" "$tmp/unicode.txt" 1 0.1 $keep "$tmp/uval.txt"); then
        expect "uni$keep" data_fingerprint "\"$fp\""
    else
        bad "keep_case $keep: training on Unicode names or recomputing failed: $(head -c 300 "$tmp/uni$keep.out")"
    fi
done

# 8. The worked example of the document is what dinornn-train writes. Its
# floats are those of the blocked kernels (the document quotes each vector
# width's); the reference kernels (--disable-simd) sum in another order.
if grep -q '^#define DRNN_REFERENCE_KERNELS 1' "$top_builddir/config.h" 2>/dev/null; then
    echo "SKIP the worked example's figures: this build runs the reference kernels"
elif python3 "$top_srcdir/tests/doc-example.py" "$top_srcdir/docs/checkpoint-format.md" "$train" \
    "$data" "$tmp" >"$tmp/example.out" 2>&1; then
    ok "$(cat "$tmp/example.out"): its dump, table and figures"
else
    bad "the worked example has drifted: $(cat "$tmp/example.out")"
fi

# 9. The vocabulary's limit, 65536 (END and 65,535 symbols): a checkpoint
# widened to it, new symbols CJK ideographs with zero weights, as the layout
# above places them (rows of W_x[0] and W_y, entries of b_y, in the weights
# and each moment), is read by the reader and by dinornn-sample; one symbol
# more is refused by both.
widen() {
    python3 - "$tmp/rnn/latest.ckpt" "$1" "$2" <<'EOF'
import struct, sys, zlib
src, V2, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
d = open(src, "rb").read()
S = struct.unpack_from("<I", d, 12)[0]
V, H, L = struct.unpack_from("<III", d, 28)
P = struct.unpack_from("<Q", d, 40)[0]
flags, N = struct.unpack_from("<II", d, 264)
assert struct.unpack_from("<I", d, 24)[0] == 0  # rnn: G = 1, R = 0
P2 = sum((V2 if l == 0 else H) * H + H * H + H for l in range(L)) + V2 * H + V2
new = [0x4E00 + i if i < 0x5200 else 0x20000 + i - 0x5200 for i in range(V2 - V)]  # no surrogates
vocab = list(struct.unpack_from("<%dI" % V, d, S)) + new
at = S + 4 * V
path = d[at:at + N]
at += N
words = []
for b in range(1 + bin(flags).count("1")):
    w = list(struct.unpack_from("<%dI" % P, d, at + 4 * P * b))
    new_rows = [0] * ((V2 - V) * H)
    words += (w[:V * H] + new_rows + w[V * H:P - V * H - V] + w[P - V * H - V:P - V] + new_rows
              + w[P - V:] + [0] * (V2 - V))
h = bytearray(d[:S])
struct.pack_into("<I", h, 28, V2)
struct.pack_into("<Q", h, 40, P2)
struct.pack_into("<Q", h, 16, S + 4 * V2 + N + 4 * len(words) + 4)
body = bytes(h) + struct.pack("<%dI" % V2, *vocab) + path + struct.pack("<%dI" % len(words), *words)
open(out, "wb").write(body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF))
EOF
}
sample=$top_builddir/dinornn-sample
if [ -f "$tmp/rnn/latest.ckpt" ] && widen 65536 "$tmp/wide.ckpt" && widen 65537 "$tmp/wider.ckpt"; then
    if read_ckpt "$tmp/wide.ckpt" wide; then
        expect wide vocab 65536
        expect wide crc_ok true
    fi
    if "$sample" -c "$tmp/wide.ckpt" --count 3 --seed 2 >"$tmp/wide.out" 2>&1 &&
        [ "$(wc -l <"$tmp/wide.out")" -eq 3 ]; then
        ok "dinornn-sample draws from a model of 65,536 tokens"
    else
        bad "dinornn-sample at the vocabulary limit: $(head -c 300 "$tmp/wide.out")"
    fi
    if python3 "$reader" "$tmp/wider.ckpt" >/dev/null 2>"$tmp/wider.err"; then
        bad "ckpt_reader.py accepted a vocabulary of 65537"
    elif grep -q 'checkpoint-corrupt.*model sizes out of range' "$tmp/wider.err"; then
        ok "ckpt_reader.py refuses a vocabulary of 65537"
    else
        bad "65537 refused, but not for its sizes: $(head -c 300 "$tmp/wider.err")"
    fi
    if "$sample" -c "$tmp/wider.ckpt" --count 1 >"$tmp/wider.out" 2>&1; then
        bad "dinornn-sample accepted a vocabulary of 65537"
    elif grep -q 'corrupt checkpoint: model sizes out of range' "$tmp/wider.out"; then
        ok "dinornn-sample refuses a vocabulary of 65537"
    else
        bad "dinornn-sample on 65537: $(head -c 300 "$tmp/wider.out")"
    fi
else
    bad "could not widen a checkpoint to the vocabulary limit"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# cli-interop.sh: dinornn-export and dinornn-import on the command line, no
# PyTorch needed: a plain model, a mixture and a labeled model go out as
# safetensors and ONNX and come back as checkpoints that score, search and
# evaluate exactly as the originals; the summary lines, --quiet, --format;
# every usage error (status 2) and runtime error (status 1) with its
# message, on crafted files; an export never replaces a checkpoint, and a
# failed run leaves the file it would replace as it was; the bash completion.
. "${top_srcdir:-.}/tests/cli-lib.sh"
export LC_ALL=C
ex=$bin/dinornn-export
ex_abs=$(cd "$bin" && pwd)/dinornn-export
src_abs=$(cd "$top_srcdir" && pwd)
im=$bin/dinornn-import
sample=$bin/dinornn-sample
eval_=$bin/dinornn-eval
# Names to score: every 40th of the list.
awk 'NR % 40 == 1' "$data" > "$tmp/names"
# A labeled list: three kinds by the first letter.
awk '{ print $0 "\tk" (index("abcdefghijklmnopqrstuvwxyz", tolower(substr($0, 1, 1))) % 3) }' \
  "$data" > "$tmp/labeled.txt"

# train NAME CELL MEMBERS DATA: a tiny model in $tmp/NAME/best.ckpt.
train() {
  "$bin/dinornn-train" --data "$4" --cell "$2" --hidden 8 --layers 1 --epochs 1 --members "$3" \
    --samples 0 --quiet --checkpoint-dir "$tmp/$1" || { echo "training $1 failed"; exit 1; }
}
train plain gru 1 "$data"
train mix lstm 2 "$data"
train lab rnn 1 "$tmp/labeled.txt"

# First byte of a file, as a number.
first_byte() { od -An -tu1 -N1 "$1" | tr -d ' '; }
size() { wc -c < "$1" | tr -d ' '; }

# roundtrip NAME DATA EXPORT-SUMMARY IMPORT-SUMMARY LABEL: export, import
# back, and the imported checkpoint scores, searches and evaluates byte for
# byte as the original.
roundtrip() {
  local n=$1 list=$2 summary=$3 isum=$4 label=$5 ck=$tmp/$1/best.ckpt d=$tmp/$1
  "$ex" "$ck" -o "$d.safetensors" > "$d.out" 2>&1 || { bad "$n: export failed: $(cat "$d.out")"; return; }
  grep -Eqx "$d.safetensors: safetensors, $summary \($(size "$d.safetensors") bytes\)" "$d.out" \
    && ok "$n: the export's summary line" || bad "$n: export printed: $(cat "$d.out")"
  "$ex" -c "$ck" -o "$d.onnx" > "$d.out" 2>&1 || { bad "$n: ONNX export failed: $(cat "$d.out")"; return; }
  grep -Eqx "$d.onnx: onnx, $summary \($(size "$d.onnx") bytes\)" "$d.out" \
    && ok "$n: the ONNX export's summary line" || bad "$n: ONNX export printed: $(cat "$d.out")"
  # An ONNX model is a protobuf ModelProto: field 1 (ir_version), a varint.
  [ "$(first_byte "$d.onnx")" = 8 ] && ok "$n: the .onnx file starts as a ModelProto" \
    || bad "$n: .onnx starts with byte $(first_byte "$d.onnx")"
  "$im" "$d.safetensors" -o "$d.imported.ckpt" > "$d.out" 2>&1 \
    || { bad "$n: import failed: $(cat "$d.out")"; return; }
  grep -qxF "$d.imported.ckpt: $isum" "$d.out" && ok "$n: the import's summary line" \
    || bad "$n: import printed: $(cat "$d.out"), expected $d.imported.ckpt: $isum"
  local c
  for c in "$ck" "$d.imported.ckpt"; do
    xargs "$sample" -c "$c" --score --format json < "$tmp/names" > "$c.score"
    "$sample" -c "$c" --best 5 > "$c.best"
    "$eval_" -c "$c" --data "$list" --format json > "$c.eval"
    : > "$c.label"
    [ -n "$label" ] && xargs "$sample" -c "$c" --label "$label" --score --format json \
      < "$tmp/names" > "$c.label"
  done
  [ -s "$ck.score" ] && cmp -s "$ck.score" "$d.imported.ckpt.score" \
    && ok "$n: --score --format json of the imported checkpoint is the original's" \
    || bad "$n: --score differs: $(diff "$ck.score" "$d.imported.ckpt.score" | head -3)"
  [ -s "$ck.best" ] && cmp -s "$ck.best" "$d.imported.ckpt.best" \
    && ok "$n: --best 5 of the imported checkpoint is the original's" \
    || bad "$n: --best differs: $(diff "$ck.best" "$d.imported.ckpt.best" | head -3)"
  [ -s "$ck.eval" ] && cmp -s "$ck.eval" "$d.imported.ckpt.eval" \
    && ok "$n: dinornn-eval of the imported checkpoint is the original's" \
    || bad "$n: dinornn-eval differs: $(diff "$ck.eval" "$d.imported.ckpt.eval" | head -3)"
  if [ -n "$label" ]; then
    [ -s "$ck.label" ] && cmp -s "$ck.label" "$d.imported.ckpt.label" \
      && ok "$n: --score --label $label of the imported checkpoint is the original's" \
      || bad "$n: --score --label differs: $(diff "$ck.label" "$d.imported.ckpt.label" | head -3)"
  fi
}
roundtrip plain "$data" "gru 1x8, 26 symbols" "gru 1x8, 26 symbols" ""
roundtrip mix "$data" "lstm 1x8, 26 symbols, a mixture of 2" "lstm 1x8, 26 symbols, a mixture of 2" ""
roundtrip lab "$tmp/labeled.txt" "rnn 1x8, 26 symbols, 3 labels" "rnn 1x8, 26 symbols, labels k0, k1, k2" k1
grep -q '"accuracy"' "$tmp/lab.imported.ckpt.eval" && ok "the imported labeled model evaluates its labels" \
  || bad "no accuracy in dinornn-eval of the imported labeled model"

ck=$tmp/plain/best.ckpt
st=$tmp/plain.safetensors
# No temporary file is left beside what was written.
ls "$tmp" | grep -q '\.tmp' && bad "a temporary file was left: $(ls "$tmp" | grep '\.tmp')" \
  || ok "no temporary file left beside the outputs"

# --- --quiet and --format ---
"$ex" -q "$ck" -o "$tmp/q.safetensors" > "$tmp/out" 2>&1 && [ ! -s "$tmp/out" ] && [ -s "$tmp/q.safetensors" ] \
  && ok "dinornn-export --quiet prints nothing" || bad "export --quiet printed: $(cat "$tmp/out")"
"$im" --quiet "$tmp/q.safetensors" -o "$tmp/q.ckpt" > "$tmp/out" 2>&1 && [ ! -s "$tmp/out" ] && [ -s "$tmp/q.ckpt" ] \
  && ok "dinornn-import --quiet prints nothing" || bad "import --quiet printed: $(cat "$tmp/out")"
cmp -s "$tmp/q.safetensors" "$st" && ok "two exports of a checkpoint are the same bytes" \
  || bad "two exports of one checkpoint differ"
"$ex" -q -c "$ck" --format onnx -o "$tmp/f.bin" && cmp -s "$tmp/f.bin" "$tmp/plain.onnx" \
  && ok "--format onnx over the file's name" || bad "--format onnx did not write the ONNX export"
"$ex" -q -c "$ck" -f safetensors -o "$tmp/f.onnx" && cmp -s "$tmp/f.onnx" "$st" \
  && ok "-f safetensors over a .onnx name" || bad "-f safetensors did not write the safetensors export"
"$ex" -q -c "$ck" -o "$tmp/noext" && cmp -s "$tmp/noext" "$st" \
  && ok "a name without .onnx is safetensors" || bad "a name without extension was not safetensors"
# The default checkpoint: checkpoints/best.ckpt of the current directory.
mkdir -p "$tmp/cwd/checkpoints" && cp "$ck" "$tmp/cwd/checkpoints/best.ckpt"
(cd "$tmp/cwd" && "$ex_abs" -q -o d.safetensors) && cmp -s "$tmp/cwd/d.safetensors" "$st" \
  && ok "without CHECKPOINT: checkpoints/best.ckpt" || bad "the default checkpoint was not exported"

# --- usage errors: status 2 ---
echo 'not a model' > "$tmp/junk.safetensors"
cp "$tmp/junk.safetensors" "$tmp/junk.orig"
expect 2 "no output: give the file to write with -o FILE" "export without -o" -- "$ex" "$ck"
expect 2 "unexpected argument 'extra'" "export with an extra operand" -- "$ex" "$ck" extra -o "$tmp/x.st"
expect 2 "invalid value 'tflite' for --format: expected one of safetensors, onnx" \
  "export with an unknown --format" -- "$ex" "$ck" --format tflite -o "$tmp/x.st"
expect 2 "junk.safetensors exists; give --force to replace it, or another name" \
  "export over an existing file without --force" -- "$ex" "$ck" -o "$tmp/junk.safetensors"
cmp -s "$tmp/junk.safetensors" "$tmp/junk.orig" && ok "... which is unchanged" || bad "the existing file changed"
expect 2 "plain is a directory; give the name of the safetensors file to write" \
  "export to a directory" -- "$ex" "$ck" -o "$tmp/plain"
expect 2 "is a directory; give the name of the onnx file to write" \
  "export to a directory, ONNX" -- "$ex" "$ck" -f onnx -o "$tmp/plain"
cp "$tmp/mix/latest.ckpt" "$tmp/latest.orig"
for force in "" --force; do
  expect 2 "mix/latest.ckpt is a dinornn checkpoint; an export does not replace one: write it to another file" \
    "export over a checkpoint ${force:-without --force}" -- "$ex" $force "$ck" -o "$tmp/mix/latest.ckpt"
  cmp -s "$tmp/mix/latest.ckpt" "$tmp/latest.orig" && ok "... which is unchanged" || bad "the checkpoint changed"
  expect 2 "best.ckpt is a dinornn checkpoint; an export does not replace one" \
    "export over the checkpoint read ${force:-without --force}" -- "$ex" $force "$ck" -o "$ck"
done
cp "$ck" "$tmp/other.bin"
expect 2 "other.bin is a dinornn checkpoint; an export does not replace one" \
  "export over a checkpoint named otherwise" -- "$ex" --force "$ck" -o "$tmp/other.bin"
cmp -s "$tmp/other.bin" "$ck" && ok "... which is unchanged" || bad "the checkpoint named otherwise changed"
mkfifo "$tmp/fifo"
expect 2 "fifo is not a regular file; give the name of the safetensors file to write" \
  "export to a FIFO, at once" -- timeout 10 "$ex" "$ck" -o "$tmp/fifo"

expect 2 "no input: give the safetensors file to read" "import without an operand" -- "$im" -o "$tmp/x.ckpt"
expect 2 "no output: give the checkpoint to write with -o CHECKPOINT" "import without -o" -- "$im" "$st"
expect 2 "unexpected argument 'extra'" "import with an extra operand" -- "$im" "$st" extra -o "$tmp/x.ckpt"
cp "$tmp/plain.imported.ckpt" "$tmp/target.ckpt"
expect 2 "target.ckpt exists; give --force to replace it, or another name" \
  "import over an existing checkpoint without --force" -- "$im" "$tmp/mix.safetensors" -o "$tmp/target.ckpt"
cmp -s "$tmp/target.ckpt" "$tmp/plain.imported.ckpt" && ok "... which is unchanged" || bad "the target changed"
expect 2 "plain is a directory; give the name of the checkpoint file to write" \
  "import to a directory" -- "$im" "$st" -o "$tmp/plain"
expect 2 "plain.safetensors is the file read \(.*plain.safetensors\); write the checkpoint to another file" \
  "import onto its input, even with --force" -- "$im" --force "$st" -o "$tmp/./plain.safetensors"
expect 2 "unrecognized option '--format'|unknown option.*--format" "import has no --format" -- \
  "$im" --format onnx "$st" -o "$tmp/x.ckpt"

# --- --force replaces what is not a checkpoint; an import replaces a checkpoint ---
expect 0 "" "export --force over a file that is not a checkpoint" -- \
  "$ex" -q --force "$ck" -o "$tmp/junk.safetensors"
cmp -s "$tmp/junk.safetensors" "$st" && ok "... which is now the export" || bad "--force did not replace it"
expect 0 "" "import --force over a checkpoint" -- "$im" -q --force "$tmp/mix.safetensors" -o "$tmp/target.ckpt"
"$sample" -c "$tmp/target.ckpt" --best 5 | cmp -s - "$tmp/mix/best.ckpt.best" \
  && ok "... which is now the imported model" || bad "import --force did not replace the checkpoint"

# --- runtime errors: status 1, naming the file ---
expect 1 "nothere.ckpt: cannot open checkpoint: No such file or directory" \
  "export of a missing checkpoint" -- "$ex" "$tmp/nothere.ckpt" -o "$tmp/x.st"
expect 1 "dinos.txt: not a dinornn checkpoint \(bad magic\)" \
  "export of a names file" -- "$ex" "$data" -o "$tmp/x.st"
expect 1 "plain.safetensors: not a dinornn checkpoint \(bad magic\)" \
  "export of a safetensors file" -- "$ex" "$st" -o "$tmp/x.st"
expect 1 "fifo: is a named pipe \(FIFO\), not a checkpoint file" \
  "export of a FIFO, at once" -- timeout 10 "$ex" "$tmp/fifo" -o "$tmp/x.st"
expect 1 "nothere.safetensors: cannot open: No such file or directory" \
  "import of a missing file" -- "$im" "$tmp/nothere.safetensors" -o "$tmp/x.ckpt"
expect 1 "plain: is a directory, not a safetensors file" \
  "import of a directory" -- "$im" "$tmp/plain" -o "$tmp/x.ckpt"
expect 1 "fifo: is a named pipe \(FIFO\), not a safetensors file" \
  "import of a FIFO, at once" -- timeout 10 "$im" "$tmp/fifo" -o "$tmp/x.ckpt"
expect 1 "/dev/null: is a character device, not a safetensors file" \
  "import of a device" -- "$im" /dev/null -o "$tmp/x.ckpt"
expect 1 "dinos.txt: not a safetensors file: its header length [0-9]+ is past the end of the file \(truncated, or not safetensors\)" \
  "import of a names file" -- "$im" "$data" -o "$tmp/x.ckpt"
expect 1 "best.ckpt: not a safetensors file: its header length [0-9]+ is past the end" \
  "import of a checkpoint" -- "$im" "$ck" -o "$tmp/x.ckpt"
expect 1 "plain.onnx: not a safetensors file: its header length [0-9]+ is past the end" \
  "import of the ONNX export" -- "$im" "$tmp/plain.onnx" -o "$tmp/x.ckpt"
expect 1 "nodir/x.safetensors: cannot create a file beside it: No such file or directory" \
  "export into a directory that is not there" -- "$ex" "$ck" -o "$tmp/nodir/x.safetensors"
expect 1 "cannot create a temporary file beside checkpoint .*nodir/x.ckpt: No such file or directory" \
  "import into a directory that is not there" -- "$im" "$st" -o "$tmp/nodir/x.ckpt"
[ -e "$tmp/x.ckpt" ] && bad "a failed import wrote its output" || ok "no failed import wrote its output"

# The safetensors container: an 8-byte little-endian header length n, n
# bytes of JSON, the data.
st_len() { od -An -tu1 -N8 "$1" | awk '{ n = 0; for (i = NF; i >= 1; i--) n = n * 256 + $i; print n }'; }
le64() {
  local n=$1 i
  for i in 0 1 2 3 4 5 6 7; do printf "\\$(printf %03o $(((n >> (8 * i)) & 255)))"; done
}
hlen=$(st_len "$st")
tail -c +9 "$st" | head -c "$hlen" > "$tmp/plain.json"
tail -c +$((9 + hlen)) "$st" > "$tmp/plain.data"
dlen=$(size "$tmp/plain.data")
[ "$(size "$tmp/plain.json")" = "$hlen" ] && [ $((8 + hlen + dlen)) = "$(size "$st")" ] \
  && ok "the export is an 8-byte length, the header and the data" || bad "the export's header length $hlen"
# pack OUT HEADER-LENGTH JSON-FILE DATA-FILE
pack() { { le64 "$2"; cat "$3" "$4"; } > "$1"; }
# craft NAME SED-SCRIPT: the plain export with its header edited by sed
# (header length fixed up).
craft() {
  sed "$2" "$tmp/plain.json" > "$tmp/$1.json"
  pack "$tmp/$1.safetensors" "$(size "$tmp/$1.json")" "$tmp/$1.json" "$tmp/plain.data"
}
pack "$tmp/same.safetensors" "$hlen" "$tmp/plain.json" "$tmp/plain.data"
cmp -s "$tmp/same.safetensors" "$st" && ok "the test packs a safetensors file as the export does" \
  || bad "pack does not rebuild the export"

# Truncated at several lengths: each refused, naming the file.
for n in 0 7 8 100 $((hlen + 7)) $((hlen + 8)) $((hlen + 9)) $((hlen + 8 + dlen / 2)) $((hlen + 7 + dlen)); do
  head -c "$n" "$st" > "$tmp/cut.safetensors"
  case $n in
  0 | 7) why="not a safetensors file: $n bytes, fewer than the 8 of the header's length" ;;
  8 | 100 | $((hlen + 7))) why="not a safetensors file: its header length $hlen is past the end of the file" ;;
  $((hlen + 8))) why="not a valid safetensors file: tensor '[a-z_.0-9]+' ends at byte [0-9]+ of the data, past its end \(the data is 0 bytes\): the file is truncated or its offsets lie" ;;
  *) why="not a valid safetensors file: tensor '[a-z_.0-9]+' ends at byte [0-9]+ of the data, past its end \(the data is [0-9]+ bytes?\)" ;;
  esac
  expect 1 "cut.safetensors: $why" "import of the export cut to $n bytes" -- \
    "$im" "$tmp/cut.safetensors" -o "$tmp/x.ckpt"
done
# A header length that lies: past the file's end, short of the header, huge.
pack "$tmp/long.safetensors" $((hlen + dlen + 1)) "$tmp/plain.json" "$tmp/plain.data"
expect 1 "long.safetensors: not a safetensors file: its header length $((hlen + dlen + 1)) is past the end of the file \(truncated, or not safetensors\)" \
  "a header length past the end" -- "$im" "$tmp/long.safetensors" -o "$tmp/x.ckpt"
pack "$tmp/huge.safetensors" $((1 << 62)) "$tmp/plain.json" "$tmp/plain.data"
expect 1 "huge.safetensors: not a safetensors file: its header length $((1 << 62)) is past the end" \
  "a header length of 2^62" -- "$im" "$tmp/huge.safetensors" -o "$tmp/x.ckpt"
pack "$tmp/short.safetensors" $((hlen - 10)) "$tmp/plain.json" "$tmp/plain.data"
expect 1 "short.safetensors: not a valid safetensors file: its JSON header, byte [0-9]+: " \
  "a header length short of the JSON" -- "$im" "$tmp/short.safetensors" -o "$tmp/x.ckpt"
pack "$tmp/one.safetensors" 1 "$tmp/plain.json" "$tmp/plain.data"
expect 1 "one.safetensors: not a safetensors file: its header length 1 is too small for a JSON object" \
  "a header length of 1" -- "$im" "$tmp/one.safetensors" -o "$tmp/x.ckpt"
# Sparse files of 17 MB and 4 GB: their header is refused from its first
# bytes, before anything the size of the file is allocated (under a 300 MB
# address-space limit, a 4 GB read would fail otherwise).
{ le64 $((16 * 1024 * 1024 + 1)); } > "$tmp/big.safetensors"
truncate -s 17M "$tmp/big.safetensors"
expect 1 "big.safetensors: not a safetensors file: its header length 16777217 is over the 16 MB dinornn reads" \
  "a header over 16 MB" -- "$im" "$tmp/big.safetensors" -o "$tmp/x.ckpt"
{ le64 $((hlen + 1)); cat "$tmp/plain.json"; } > "$tmp/vast.safetensors"
truncate -s 4G "$tmp/vast.safetensors"
# (ASan reserves terabytes of address space: no limit in a sanitizer build.)
limit='ulimit -v 300000;'
[ -n "${sanitize_cflags:-}" ] && limit=
expect 1 "vast.safetensors: not a valid safetensors file: its JSON header" \
  "a 4 GB file whose header is bad, refused without reading it" -- \
  bash -c "$limit"' exec "$0" "$@"' "$im" "$tmp/vast.safetensors" -o "$tmp/x.ckpt"
rm -f "$tmp/big.safetensors" "$tmp/vast.safetensors"
# Bad JSON.
craft badjson 's/^{/[/'
expect 1 "badjson.safetensors: not a valid safetensors file: its JSON header, byte 8: an object expected" \
  "a header that is not a JSON object" -- "$im" "$tmp/badjson.safetensors" -o "$tmp/x.ckpt"
craft comma 's/"out.bias":/"out.bias"/'
expect 1 "comma.safetensors: not a valid safetensors file: its JSON header, byte [0-9]+: a ':' expected" \
  "a header with a ':' missing" -- "$im" "$tmp/comma.safetensors" -o "$tmp/x.ckpt"
craft dtype8 's/"out.bias":{"dtype":"F32"/"out.bias":{"dtype":"F99"/'
expect 1 "dtype8.safetensors: not a valid safetensors file: its JSON header, byte [0-9]+: an unknown dtype" \
  "a dtype that safetensors lacks" -- "$im" "$tmp/dtype8.safetensors" -o "$tmp/x.ckpt"
# A tensor whose offsets do not hold its dtype and shape.
craft bytes 's/"out.bias":{"dtype":"F32","shape":\[27\]/"out.bias":{"dtype":"F32","shape":[26]/'
expect 1 "bytes.safetensors: not a valid safetensors file: tensor 'out.bias' has 108 bytes at data_offsets \[[0-9]+, [0-9]+\], its dtype F32 and shape need 104" \
  "a tensor whose offsets do not fit its shape" -- "$im" "$tmp/bytes.safetensors" -o "$tmp/x.ckpt"
craft overlap 's/"out.bias":{"dtype":"F32","shape":\[27\],"data_offsets":\[[0-9]*,[0-9]*\]/"out.bias":{"dtype":"F32","shape":[27],"data_offsets":[0,108]/'
expect 1 "overlap.safetensors: not a valid safetensors file: tensor '[a-z_.0-9]+' begins at byte 0 of the data, where another tensor's bytes lie \(they overlap\)" \
  "offsets that overlap" -- "$im" "$tmp/overlap.safetensors" -o "$tmp/x.ckpt"
# The last tensor (out.bias, of 27 floats) 4 bytes later: a gap before it.
bias_at=$(grep -o '"out.bias":{"dtype":"F32","shape":\[27\],"data_offsets":\[[0-9]*' "$tmp/plain.json" | grep -o '[0-9]*$')
[ $((bias_at + 108)) = "$dlen" ] && ok "out.bias is the last tensor" || bad "out.bias at $bias_at of $dlen"
sed "s/\"out.bias\":{\"dtype\":\"F32\",\"shape\":\[27\],\"data_offsets\":\[$bias_at,$dlen\]/\"out.bias\":{\"dtype\":\"F32\",\"shape\":[27],\"data_offsets\":[$((bias_at + 4)),$((dlen + 4))]/" \
  "$tmp/plain.json" > "$tmp/gap.json"
{ cat "$tmp/plain.data"; printf 'xxxx'; } > "$tmp/gap.data"
pack "$tmp/gap.safetensors" "$(size "$tmp/gap.json")" "$tmp/gap.json" "$tmp/gap.data"
expect 1 "gap.safetensors: not a valid safetensors file: tensor 'out.bias' begins at byte $((bias_at + 4)) of the data, where a gap of bytes no tensor owns begins" \
  "a gap between tensors" -- "$im" "$tmp/gap.safetensors" -o "$tmp/x.ckpt"
{ cat "$st"; printf 'xxxx'; } > "$tmp/tail.safetensors"
expect 1 "tail.safetensors: not a valid safetensors file: 4 bytes after the last tensor belong to none" \
  "bytes after the last tensor" -- "$im" "$tmp/tail.safetensors" -o "$tmp/x.ckpt"

# Valid safetensors, but not the model that the metadata describes.
craft missing 's/"out.bias":/"out.bias_renamed":/'
expect 1 "missing.safetensors: tensor 'out.bias' is missing: the model its metadata describes \(gru, 1 layer, 1 member\) needs it" \
  "a missing tensor" -- "$im" "$tmp/missing.safetensors" -o "$tmp/x.ckpt"
craft shape 's/"out.weight":{"dtype":"F32","shape":\[27,8\]/"out.weight":{"dtype":"F32","shape":[8,27]/'
expect 1 "shape.safetensors: tensor 'out.weight' has shape \[8, 27\]; the model its metadata describes needs \[27, 8\]" \
  "a tensor of the wrong shape" -- "$im" "$tmp/shape.safetensors" -o "$tmp/x.ckpt"
craft i32 's/"out.bias":{"dtype":"F32"/"out.bias":{"dtype":"I32"/'
expect 1 "i32.safetensors: tensor 'out.bias' is I32; dinornn reads F32 \(in PyTorch: model.float\(\) before saving\)" \
  "a tensor of dtype I32" -- "$im" "$tmp/i32.safetensors" -o "$tmp/x.ckpt"
craft extra "s/^{/{\"rnn.weight_ih_l1\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[$dlen,$dlen]},/"
expect 1 "extra.safetensors: tensor 'rnn.weight_ih_l1' is not part of a dinornn model of this shape \(docs/interop.md lists the tensors\)" \
  "a tensor the model does not have" -- "$im" "$tmp/extra.safetensors" -o "$tmp/x.ckpt"
# A non-finite value: +inf at the data's first float (tensor at offset 0).
first=$(grep -o '"[a-z_.0-9]*":{"dtype":"F32","shape":\[[0-9,]*\],"data_offsets":\[0,' "$tmp/plain.json" | cut -d'"' -f2)
cp "$st" "$tmp/inf.safetensors"
printf '\000\000\200\177' | dd of="$tmp/inf.safetensors" bs=1 seek=$((8 + hlen)) conv=notrunc 2>/dev/null
expect 1 "inf.safetensors: tensor '$first' holds a non-finite value \(element 0\)" \
  "a tensor holding +inf" -- "$im" "$tmp/inf.safetensors" -o "$tmp/x.ckpt"
printf '\001\000\300\377' | dd of="$tmp/inf.safetensors" bs=1 seek=$((8 + hlen + 4)) conv=notrunc 2>/dev/null
printf '\000\000\200\077' | dd of="$tmp/inf.safetensors" bs=1 seek=$((8 + hlen)) conv=notrunc 2>/dev/null
expect 1 "inf.safetensors: tensor '$first' holds a non-finite value \(element 1\)" \
  "a tensor holding a NaN" -- "$im" "$tmp/inf.safetensors" -o "$tmp/x.ckpt"
# The metadata.
craft nocell 's/"cell":"gru",//'
expect 1 "nocell.safetensors: not a dinornn model: the metadata has no 'cell' \(rnn, lstm or gru\)" \
  "no 'cell'" -- "$im" "$tmp/nocell.safetensors" -o "$tmp/x.ckpt"
craft tanh 's/"cell":"gru"/"cell":"tanh"/'
expect 1 "tanh.safetensors: metadata 'cell' is \"tanh\", not rnn, lstm or gru" \
  "an unknown 'cell'" -- "$im" "$tmp/tanh.safetensors" -o "$tmp/x.ckpt"
craft nometa 's/"__metadata__":{[^}]*},//'
expect 1 "nometa.safetensors: not a dinornn model: the metadata has no 'cell'" \
  "no metadata at all (a bare state_dict)" -- "$im" "$tmp/nometa.safetensors" -o "$tmp/x.ckpt"
craft format 's/"format":"dinornn"/"format":"pt"/'
expect 1 "format.safetensors: metadata 'format' is \"pt\", not \"dinornn\"" \
  "another 'format'" -- "$im" "$tmp/format.safetensors" -o "$tmp/x.ckpt"
craft version 's/"format_version":"1"/"format_version":"2"/'
expect 1 "version.safetensors: metadata 'format_version' is \"2\", not a whole number from 1 to 1" \
  "a newer 'format_version'" -- "$im" "$tmp/version.safetensors" -o "$tmp/x.ckpt"
craft novocab 's/"vocab":"27",//'
expect 1 "novocab.safetensors: not a dinornn model: the metadata has no 'vocab'" \
  "no 'vocab'" -- "$im" "$tmp/novocab.safetensors" -o "$tmp/x.ckpt"
craft hidden 's/"hidden":"8"/"hidden":"eight"/'
expect 1 "hidden.safetensors: metadata 'hidden' is \"eight\", not a whole number from 1 to [0-9]+" \
  "a 'hidden' that is not a number" -- "$im" "$tmp/hidden.safetensors" -o "$tmp/x.ckpt"
craft fewer 's/"symbols":"abcdefghijklmnopqrstuvwxyz"/"symbols":"abcdefghijklmnopqrstuvwxy"/'
expect 1 "fewer.safetensors: metadata 'symbols' holds fewer than the 26 symbols that 'vocab' \(27, END included\) needs" \
  "'symbols' one short of 'vocab'" -- "$im" "$tmp/fewer.safetensors" -o "$tmp/x.ckpt"
craft more 's/"symbols":"abcdefghijklmnopqrstuvwxyz"/"symbols":"abcdefghijklmnopqrstuvwxyz0"/'
expect 1 "more.safetensors: metadata 'symbols' holds more than the 26 symbols" \
  "'symbols' one over 'vocab'" -- "$im" "$tmp/more.safetensors" -o "$tmp/x.ckpt"
craft twice 's/"symbols":"abcdefghijklmnopqrstuvwxyz"/"symbols":"abcdefghijklmnopqrstuvwxya"/'
expect 1 "twice.safetensors: metadata 'symbols' holds U\+0061 twice" \
  "a symbol twice" -- "$im" "$tmp/twice.safetensors" -o "$tmp/x.ckpt"
craft nosymbols 's/"symbols":"abcdefghijklmnopqrstuvwxyz",//'
expect 1 "nosymbols.safetensors: not a dinornn model: the metadata has no 'symbols'" \
  "no 'symbols'" -- "$im" "$tmp/nosymbols.safetensors" -o "$tmp/x.ckpt"
craft hplr 's/"hp.lr":"[^"]*"/"hp.lr":"fast"/'
expect 1 "hplr.safetensors: metadata 'hp.lr' is \"fast\", not a value of dinornn-train's --lr" \
  "a setting that is not the option's value" -- "$im" "$tmp/hplr.safetensors" -o "$tmp/x.ckpt"
craft members 's/"members":"1"/"members":"2"/'
expect 1 "members.safetensors: tensor 'members.0.rnn.weight_ih_l0' is missing: the model its metadata describes \(gru, 1 layer, 2 members\)" \
  "'members' that the tensors do not have" -- "$im" "$tmp/members.safetensors" -o "$tmp/x.ckpt"
# A labeled model's metadata.
lst=$tmp/lab.safetensors
lhlen=$(st_len "$lst")
tail -c +9 "$lst" | head -c "$lhlen" > "$tmp/lab.json"
tail -c +$((9 + lhlen)) "$lst" > "$tmp/lab.data"
lcraft() {
  sed "$2" "$tmp/lab.json" > "$tmp/$1.json"
  pack "$tmp/$1.safetensors" "$(size "$tmp/$1.json")" "$tmp/$1.json" "$tmp/lab.data"
}
lcraft duplabel 's/\[\\"k0\\",\\"k1\\",\\"k2\\"\]/[\\"k0\\",\\"k1\\",\\"k0\\"]/'
expect 1 "duplabel.safetensors: label \"k0\" is in 'label_names' twice" \
  "a label twice" -- "$im" "$tmp/duplabel.safetensors" -o "$tmp/x.ckpt"
lcraft nolabels 's/"label_names":"[^"]*\(\\"[^"]*\)*",//'
expect 1 "nolabels.safetensors: a model of 3 labels needs metadata 'label_names' and 'label_counts'" \
  "a labeled model without 'label_names'" -- "$im" "$tmp/nolabels.safetensors" -o "$tmp/x.ckpt"
lcraft twolabels 's/\[\\"k0\\",\\"k1\\",\\"k2\\"\]/[\\"k0\\",\\"k1\\"]/'
expect 1 "twolabels.safetensors: metadata 'label_names' is not a JSON array of 3 strings" \
  "'label_names' of 2 for 3 labels" -- "$im" "$tmp/twolabels.safetensors" -o "$tmp/x.ckpt"
lcraft zerocount 's/"label_counts":"\[[0-9]*,/"label_counts":"[0,/'
expect 1 "zerocount.safetensors: label 0 of 'label_names' is empty, over [0-9]+ bytes, not NFC or holds a control character, or its count in 'label_counts' is not from 1 to 2\^62-1" \
  "a label of count 0" -- "$im" "$tmp/zerocount.safetensors" -o "$tmp/x.ckpt"
lcraft unlabeled 's/"labels":"3"/"labels":"0"/'
expect 1 "unlabeled.safetensors: tensor 'rnn.weight_ih_l0' has shape \[8, 30\]; the model its metadata describes needs \[8, 27\]" \
  "'labels' 0 for a labeled model's tensors" -- "$im" "$tmp/unlabeled.safetensors" -o "$tmp/x.ckpt"
[ -e "$tmp/x.ckpt" ] && bad "a failed import wrote its output" || ok "no refused file wrote an output"

# A failed import or export leaves the file that --force would replace as it was.
cp "$tmp/target.ckpt" "$tmp/target.orig"
expect 1 "cut.safetensors: not a valid safetensors file" "import --force of a truncated file" -- \
  "$im" --force "$tmp/cut.safetensors" -o "$tmp/target.ckpt"
cmp -s "$tmp/target.ckpt" "$tmp/target.orig" && ok "... leaves the checkpoint it would replace unchanged" \
  || bad "a failed import changed the --force target"
cp "$st" "$tmp/target.safetensors"
expect 1 "nothere.ckpt: cannot open checkpoint" "export --force of a missing checkpoint" -- \
  "$ex" --force "$tmp/nothere.ckpt" -o "$tmp/target.safetensors"
cmp -s "$tmp/target.safetensors" "$st" && ok "... leaves the file it would replace unchanged" \
  || bad "a failed export changed the --force target"
ls "$tmp" | grep -q '\.tmp' && bad "a temporary file was left: $(ls "$tmp" | grep '\.tmp')" \
  || ok "no temporary file left by the failures"

# --- --help matches the options; bash completion ---
for p in "$ex" "$im"; do
  "$p" --help > "$tmp/help" && grep -q -- '--force' "$tmp/help" && grep -q -- '-q, --quiet' "$tmp/help" \
    && ok "${p##*/} --help" || bad "${p##*/} --help: $(head -3 "$tmp/help")"
done
complete_words() {
  (cd "$tmp/comp" && bash -c '. "$1/docs/bash-completion/dinornn"; shift; COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1)); _dinornn "$1" 2>/dev/null; printf "%s\n" "${COMPREPLY[@]}"' \
    sh "$src_abs" "$@" | sort | tr '\n' ' ')
}
mkdir -p "$tmp/comp/sub"
touch "$tmp/comp/a.ckpt" "$tmp/comp/b.safetensors" "$tmp/comp/c.txt"
# check_completion WANT WORDS...
check_completion() {
  local want=$1 got
  shift
  got=$(complete_words "$@")
  [ "$got" = "$want" ] && ok "completion: $*" || bad "completion of $*: '$got', expected '$want'"
}
check_completion "a.ckpt sub " dinornn-export ''
check_completion "b.safetensors sub " dinornn-import ''
check_completion "b.safetensors sub " dinornn-import -q -- ''
check_completion "a.ckpt b.safetensors c.txt sub " dinornn-export a.ckpt -o ''
check_completion "c.txt " dinornn-import b.safetensors --output c
check_completion "onnx safetensors " dinornn-export --format ''
check_completion "onnx " dinornn-export -f o
check_completion "json text " dinornn-eval --format ''
check_completion "--force --format= " dinornn-export --fo
check_completion "--force --help --output= --quiet --version " dinornn-import --
check_completion "--checkpoint= " dinornn-export --ch
# Every long option of --help is offered, and no other.
for p in dinornn-export dinornn-import; do
  "$bin/$p" --help | grep -o -- '--[a-z-]*' | sort -u > "$tmp/help-opts"
  complete_words "$p" -- | tr ' ' '\n' | sed 's/=$//' | grep . | sort -u > "$tmp/comp-opts"
  missing=$(comm -3 "$tmp/help-opts" "$tmp/comp-opts" | tr -d '\t' | tr '\n' ' ')
  [ -z "$missing" ] && ok "completion: $p offers exactly the long options of its --help" \
    || bad "completion of $p and its --help differ: $missing"
done
finish

#!/usr/bin/env bash
# cli-onnx.sh: the ONNX export (dinornn-export -o FILE.onnx) of a model of every cell, of 1 to 3 layers, of a
# mixture and of a labeled list passes onnx.checker (tests/onnx_check.py)
# and, run step by step in ONNX Runtime (tests/onnx_step.js, all the names
# as one batch), gives each name the log-probability that dinornn-sample
# --score gives it, within 1e-5. Skipped (77) when python3 lacks the onnx
# package or node lacks onnxruntime-node.
. "${top_srcdir:-.}/tests/cli-lib.sh"
python=${TORCH_PYTHON:-/usr/bin/python3}
NODE_PATH=${NODE_PATH:-$top_srcdir/node_modules}
export NODE_PATH
if ! "$python" -c 'import onnx' 2>/dev/null; then
  echo "SKIP: $python cannot import onnx (apt-get install python3-onnx)"
  exit 77
fi
node=${NODE:-node}
if ! "$node" -e 'require("onnxruntime-node")' 2>/dev/null; then
  echo "SKIP: node cannot load onnxruntime-node from NODE_PATH=$NODE_PATH (scripts/bootstrap installs it, or: npm install --ignore-scripts)"
  exit 77
fi
sample=$bin/dinornn-sample
# Names to score: every 25th of the list, and one of a single letter.
awk 'NR % 25 == 1' "$data" > "$tmp/names"
echo x >> "$tmp/names"
# A labeled list: three kinds by the first letter.
awk '{ print $0 "\tk" (index("abcdefghijklmnopqrstuvwxyz", tolower(substr($0, 1, 1))) % 3) }' \
  "$data" > "$tmp/labeled.txt"
awk 'NR % 25 == 1' "$tmp/labeled.txt" | sort -t "$(printf '\t')" -k2,2 -s > "$tmp/labeled-names"

# check NAME CELL LAYERS MEMBERS DATA NAMES: trains a small model, exports
# it, checks the file and compares ONNX Runtime's scores with dinornn's.
check() {
  local what=$1 cell=$2 layers=$3 members=$4 list=$5 names=$6 d=$tmp/$1
  "$bin/dinornn-train" --data "$list" --cell "$cell" --hidden 16 --layers "$layers" --epochs 1 \
    --members "$members" --samples 0 --quiet --checkpoint-dir "$d" || { bad "$what: training failed"; return; }
  "$bin/dinornn-export" -q "$d/best.ckpt" -o "$d.onnx" || { bad "$what: export failed"; return; }
  "$python" "$top_srcdir/tests/onnx_check.py" "$d.onnx" "$d.json" \
    && ok "$what: onnx.checker passes" || { bad "$what: onnx.checker"; return; }
  "$node" "$top_srcdir/tests/onnx_step.js" "$d.onnx" "$d.json" "$names" > "$d.ort" \
    || { bad "$what: onnxruntime failed"; return; }
  : > "$d.ref"
  if [ "$list" = "$data" ]; then
    xargs "$sample" -c "$d/best.ckpt" --score --format json < "$names" > "$d.ref"
  else # one label at a time: the names file is sorted by label
    for label in $(cut -f2 "$names" | uniq); do
      awk -F'\t' -v l="$label" '$2 == l { print $1 }' "$names" \
        | xargs "$sample" -c "$d/best.ckpt" --label "$label" --score --format json >> "$d.ref"
    done
  fi
  local diff
  if diff=$("$python" - "$d.ort" "$d.ref" <<'PY'
import json, sys
ort = [json.loads(l) for l in open(sys.argv[1])]
ref = [json.loads(l) for l in open(sys.argv[2])]
if len(ort) != len(ref) or not ort:
    sys.exit(f"{len(ort)} names from onnxruntime, {len(ref)} from dinornn-sample")
worst = 0.0
for a, b in zip(ort, ref):
    if a["name"].lower() != b["name"].lower():
        sys.exit(f"{a['name']} against {b['name']}")
    worst = max(worst, abs(a["logprob"] - b["logprob"]))
print(f"{worst:.3g}")
sys.exit(worst > 1e-5)
PY
  ); then
    ok "$what: onnxruntime's log-probabilities are dinornn's (max difference $diff)"
  else
    bad "$what: onnxruntime and dinornn-sample --score differ: $diff"
  fi
}

for cell in rnn lstm gru; do
  for layers in 1 2 3; do
    check "$cell-$layers" "$cell" "$layers" 1 "$data" "$tmp/names"
  done
  check "$cell-2x2-mixture" "$cell" 2 2 "$data" "$tmp/names"
  check "$cell-2-labeled" "$cell" 2 1 "$tmp/labeled.txt" "$tmp/labeled-names"
done
check "gru-1x3-labeled-mixture" gru 1 3 "$tmp/labeled.txt" "$tmp/labeled-names"

# The metadata of a labeled model names its labels; its graph takes them.
grep -q '"label_names": "\[\\"k0\\",\\"k1\\",\\"k2\\"\]"' "$tmp/gru-2-labeled.json" \
  && ok "the labels are in the metadata" || bad "label_names: $(head -c 300 "$tmp/gru-2-labeled.json")"
"$python" -c 'import onnx, sys
g = onnx.load(sys.argv[1]).graph
names = [i.name for i in g.input], [o.name for o in g.output]
sys.exit(names != (["symbol", "label", "h", "c"], ["logprobs", "h_out", "c_out"]))' "$tmp/lstm-2-labeled.onnx" \
  && ok "a labeled LSTM's inputs and outputs" || bad "a labeled LSTM's inputs and outputs"
finish

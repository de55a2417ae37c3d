#!/usr/bin/env bash
# cli-torch.sh: dinornn's models in PyTorch and back (docs/interop.md).
# Models trained by dinornn-train (every cell at 1 to 3 layers, a mixture, a
# labeled model) are exported as safetensors; scripts/torch-score, which
# builds torch.nn modules from the file, must give every validation name the
# log-probability that dinornn-sample --score gives (within 1e-5 per name;
# under each label and under none for the labeled model) and the greedy
# name of dinornn-sample -t 0. Models trained by scripts/torch-train (plain,
# labeled, with an nn.Embedding folded into the first layer) are imported by
# dinornn-import; dinornn-eval's loss on the validation file must be
# torch-train's within 1e-5. Skipped (77) without PyTorch (TORCH_PYTHON,
# default /usr/bin/python3).
. "${top_srcdir:-.}/tests/cli-lib.sh"
py=${TORCH_PYTHON:-/usr/bin/python3}
scripts=$top_srcdir/scripts
sample=$bin/dinornn-sample
tol=1e-5
if ! "$py" -c 'import torch' >/dev/null 2>&1; then
  echo "SKIP: $py cannot import torch (install python3-torch, or set TORCH_PYTHON)"
  exit 77
fi
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
tab=$(printf '\t')
awk 'NR % 30 == 7' "$data" | head -50 > "$tmp/val.txt"
awk '{ print $0 "\t" (/saurus$/ ? "saurus" : "other") }' "$data" > "$tmp/lab.txt"
awk 'NR % 30 == 7' "$tmp/lab.txt" | head -50 > "$tmp/labval.txt"
mapfile -t names < "$tmp/val.txt"

# --- dinornn's models, exported; the torch-score runs on them, listed ---
: > "$tmp/jobs"
job() { local IFS="$tab"; printf '%s\n' "$*" >> "$tmp/jobs"; }
models=()
model() { # NAME TRAIN-OPTIONS...: trains, exports, lists its torch-score runs
  local m=$1; shift
  if ! "$bin/dinornn-train" --hidden 16 --epochs 1 --samples 0 --quiet -j 1 \
       --checkpoint-dir "$tmp/$m" "$@" > "$tmp/$m.log" 2>&1; then
    bad "dinornn-train $*: $(head -c 300 "$tmp/$m.log")"; return
  fi
  if ! "$bin/dinornn-export" "$tmp/$m/best.ckpt" -o "$tmp/$m.safetensors" > "$tmp/$m.log" 2>&1; then
    bad "dinornn-export $m: $(head -c 300 "$tmp/$m.log")"; return
  fi
  models+=("$m")
  job "$tmp/$m.torch" torch-score "$tmp/$m.safetensors" --greedy --data "$tmp/val.txt"
}
for cell in rnn lstm gru; do
  for layers in 1 2 3; do
    model "$cell$layers" --data "$data" --cell "$cell" --layers "$layers" --members 1
  done
done
model mix --data "$data" --cell gru --layers 2 --members 2
model lab --data "$tmp/lab.txt" --cell lstm --layers 2 --members 1
labels=(other saurus)
for l in "${labels[@]}"; do
  job "$tmp/lab-$l.torch" torch-score "$tmp/lab.safetensors" --greedy --label "$l" --data "$tmp/val.txt"
done

# --- torch-train's models; torch-score's refusals ---
tt() { local m=$1; shift
  job "$tmp/$m.out" torch-train --epochs 1 --hidden 16 --threads 1 --quiet -o "$tmp/$m.safetensors" "$@"; }
tt tt-plain --data "$data" --val "$tmp/val.txt" --cell gru --layers 2
tt tt-lab --data "$tmp/lab.txt" --val "$tmp/labval.txt" --cell gru
tt tt-emb --data "$data" --val "$tmp/val.txt" --cell lstm --layers 2 --embedding 8
head -c 300 "$tmp/gru1.safetensors" > "$tmp/cut.safetensors"
job "$tmp/err-cut" torch-score "$tmp/cut.safetensors" Zuul
job "$tmp/err-label" torch-score "$tmp/lab.safetensors" --label nosuch Zuul
job "$tmp/err-symbol" torch-score "$tmp/gru1.safetensors" Zuul 'Zu1'
job "$tmp/err-usage" torch-score "$tmp/gru1.safetensors"

# All of them in one process: importing torch is the slow part.
"$py" - "$scripts" "$tmp/jobs" <<'PY' || bad "the torch runs failed to start"
import contextlib, importlib.machinery, importlib.util, io, sys
scripts, jobs = sys.argv[1:]
sys.path.insert(0, scripts)
mods = {}
for prog in ("torch-score", "torch-train"):
    loader = importlib.machinery.SourceFileLoader(prog.replace("-", "_"), "%s/%s" % (scripts, prog))
    mods[prog] = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(mods[prog])
for line in open(jobs, encoding="utf-8"):
    out, prog, *args = line.rstrip("\n").split("\t")
    err = io.StringIO()
    with open(out, "w", encoding="utf-8") as f, contextlib.redirect_stdout(f), \
            contextlib.redirect_stderr(err):
        try:
            status = mods[prog].main(args) or 0
        except SystemExit as e:
            status = e.code if isinstance(e.code, int) else 1
    open(out + ".status", "w").write("%d\n" % status)
    open(out + ".err", "w", encoding="utf-8").write(err.getvalue())
PY

status_is() { [ "$(cat "$1.status" 2>/dev/null)" = "$2" ]; }
maxdiff=0
# compare TORCH-OUT JSON-SCORES WHAT: every name's log-probability within tol.
compare() {
  tail -n +2 "$1" | cut -f2 > "$tmp/a"
  sed 's/^{"name":"[^"]*","logprob":\([^,}]*\).*/\1/' "$2" > "$tmp/b"
  local d
  d=$(paste "$tmp/a" "$tmp/b" | awk -v n="${#names[@]}" '{ d = $1 - $2; if (d < 0) d = -d; if (d > m) m = d; c++ }
    END { if (c != n) print "lines " c; else printf "%.3g\n", m }')
  if awk -v d="$d" -v t="$tol" 'BEGIN { exit !(d ~ /^[0-9.e+-]+$/ && d + 0 <= t + 0) }'; then
    ok "$3: ${#names[@]} log-probabilities as dinornn-sample's (max diff $d)"
    maxdiff=$(awk -v a="$maxdiff" -v b="$d" 'BEGIN { print (b + 0 > a + 0) ? b : a }')
  else
    bad "$3: torch-score and dinornn-sample differ: $d; $(paste "$tmp/a" "$tmp/b" | head -3 | tr '\n' ' ')"
  fi
}
greedy_is() { # TORCH-OUT WHAT SAMPLE-OPTIONS...
  local out=$1 what=$2; shift 2
  local want got
  want=$("$sample" "$@" -t 0 -n 1 | cut -f1 | tr '[:upper:]' '[:lower:]')
  got=$(head -1 "$out")
  [ -n "$want" ] && [ "$got" = "$want" ] && ok "$what: the greedy name, $got" \
    || bad "$what: greedy name '$got', dinornn-sample -t 0 gives '$want'"
}
check_model() { # NAME TORCH-OUT [SAMPLE-OPTIONS...]
  local m=$1 out=$2; shift 2
  if ! status_is "$out" 0; then bad "torch-score $m $*: $(head -c 300 "$out.err")"; return; fi
  "$sample" -c "$tmp/$m/best.ckpt" --score --format json "$@" "${names[@]}" > "$tmp/$m.json"
  compare "$out" "$tmp/$m.json" "$m${*:+ $*}"
  greedy_is "$out" "$m${*:+ $*}" -c "$tmp/$m/best.ckpt" "$@"
}
for m in "${models[@]}"; do
  check_model "$m" "$tmp/$m.torch"
done
for l in "${labels[@]}"; do
  check_model lab "$tmp/lab-$l.torch" --label "$l"
done
echo "torch-score against dinornn-sample: max difference $maxdiff"

# --- torch-train -> dinornn-import -> dinornn-eval ---
imported() { # NAME VAL-FILE
  local m=$1 val=$2
  if ! status_is "$tmp/$m.out" 0; then bad "torch-train $m: $(head -c 300 "$tmp/$m.out.err")"; return; fi
  if ! "$bin/dinornn-import" "$tmp/$m.safetensors" -o "$tmp/$m.ckpt" > "$tmp/$m.log" 2>&1; then
    bad "dinornn-import $m: $(head -c 300 "$tmp/$m.log")"; return
  fi
  local want got fold
  want=$(awk '$1 == "val_nats_per_char" { print $2 }' "$tmp/$m.out")
  fold=$(awk '$1 == "fold_max_abs_diff" { print $2 }' "$tmp/$m.out")
  "$bin/dinornn-eval" -c "$tmp/$m.ckpt" -d "$val" --format json > "$tmp/$m.eval"
  got=$(grep -o '"nats_per_char":[^,}]*' "$tmp/$m.eval" | head -1 | cut -d: -f2)  # the file's, not a label's
  if awk -v a="$want" -v b="$got" -v t="$tol" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d <= t) }'; then
    ok "$m: dinornn-eval of the import $got, torch $want nats/char"
  else
    bad "$m: dinornn-eval of the import '$got', torch-train '$want'"
  fi
  awk -v d="$fold" -v t="$tol" 'BEGIN { exit !(d != "" && d + 0 <= t + 0) }' \
    && ok "$m: the saved (folded) model is the trained one (max diff $fold)" || bad "$m: folding off by '$fold'"
}
imported tt-plain "$tmp/val.txt"
imported tt-lab "$tmp/labval.txt"
imported tt-emb "$tmp/val.txt"
# The imported labeled model keeps its labels, in their order.
grep -q '"labels":\[{"label":"other","names":23,.*{"label":"saurus","names":27,' "$tmp/tt-lab.eval" \
  && ok "the imported model has its labels" || bad "dinornn-eval of the imported labeled model: $(cat "$tmp/tt-lab.eval")"

# --- torch-score as a program; its refusals ---
"$py" "$scripts/torch-score" --format json "$tmp/gru1.safetensors" Zuul > "$tmp/prog.json" 2> "$tmp/prog.err"
zuul=$(head -1 "$tmp/err-symbol" | cut -f2)
grep -Eq '^\{"name": "Zuul", "logprob": -[0-9.]+\}$' "$tmp/prog.json" \
  && awk -v a="$(sed 's/.*"logprob": \([^}]*\)}/\1/' "$tmp/prog.json")" -v b="$zuul" 'BEGIN { exit !(a == b) }' \
  && ok "torch-score run as a program, --format json" || bad "torch-score --format json: $(cat "$tmp/prog.json" "$tmp/prog.err")"
status_is "$tmp/err-cut" 1 && grep -q 'cut.safetensors' "$tmp/err-cut.err" \
  && ok "a truncated file: status 1, named" || bad "truncated: $(cat "$tmp/err-cut.status" "$tmp/err-cut.err")"
status_is "$tmp/err-label" 2 && grep -q "not one of the model's" "$tmp/err-label.err" \
  && ok "an unknown --label: status 2" || bad "--label nosuch: $(cat "$tmp/err-label.err")"
status_is "$tmp/err-symbol" 2 && grep -q "U+0031" "$tmp/err-symbol.err" && grep -q '^Zuul' "$tmp/err-symbol" \
  && ok "a name with an unknown symbol is named and skipped, status 2" || bad "unknown symbol: $(cat "$tmp/err-symbol.err")"
status_is "$tmp/err-usage" 2 && grep -q "usage" "$tmp/err-usage.err" \
  && ok "nothing to do: usage, status 2" || bad "no names: $(cat "$tmp/err-usage.err")"
finish

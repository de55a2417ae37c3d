#!/usr/bin/env bash
# cli-labels.sh: a model trained on a labeled list (NAME<TAB>LABEL): names
# by kind (--label), the model of all kinds, --classify, dinornn-eval's
# per-label figures, and the refusals.
. "${top_srcdir:-.}/tests/cli-lib.sh"
sample=$bin/dinornn-sample
eval_=$bin/dinornn-eval
tab=$(printf '\t')
# A kind that the letters tell: the names ending in -saurus, and the rest.
awk '{ print $0 "\t" (/saurus$/ ? "saurus" : "other") }' "$data" > "$tmp/lab.txt"
ck=$tmp/ck
"$bin/dinornn-train" --members 1 --data "$tmp/lab.txt" --cell gru --layers 1 --hidden 32 --epochs 6 \
  --samples 0 --checkpoint-dir "$ck" > "$tmp/train.out" 2>&1 || { cat "$tmp/train.out"; echo "training failed"; exit 1; }
best=$ck/best.ckpt
grep -Eq '^2 labels, conditioning every step: other \([0-9.]+%\), saurus \([0-9.]+%\)' "$tmp/train.out" \
  && ok "training names the labels and their shares" || bad "no labels line: $(head -3 "$tmp/train.out")"

# --- --label: names of one kind; --best of a kind is that kind's ---
"$sample" -c "$best" --label saurus --best 5 --format json > "$tmp/sb"
grep -c '"label":"saurus"' "$tmp/sb" | grep -qx 5 && ok "--label's names say their label" \
  || bad "--label json: $(head -2 "$tmp/sb")"
"$sample" -c "$best" --label saurus --best 5 --min-length 6 | cut -f1 > "$tmp/s5"
"$sample" -c "$best" --label other --best 5 --min-length 6 | cut -f1 > "$tmp/o5"
[ "$(grep -c 'saurus$' "$tmp/s5")" -ge 4 ] && ok "the saurus kind's best names end in -saurus" \
  || bad "saurus kind: $(tr '\n' ' ' < "$tmp/s5")"
cmp -s "$tmp/s5" "$tmp/o5" && bad "two labels gave the same best names" || ok "another label, other names"
# --score under a label reproduces --best under it.
"$sample" -c "$best" --label saurus --best 5 > "$tmp/sbest"
cut -f1 "$tmp/sbest" | xargs "$sample" -c "$best" --label saurus --score | cut -f1,2 > "$tmp/sscored"
cmp -s "$tmp/sbest" "$tmp/sscored" && ok "--score --label reproduces --best --label" \
  || bad "--best/--score under a label: $(paste "$tmp/sbest" "$tmp/sscored" | head -2)"
# Without --label: the model of all kinds; --score reproduces its --best.
"$sample" -c "$best" --best 5 > "$tmp/mbest"
cut -f1 "$tmp/mbest" | xargs "$sample" -c "$best" --score | cut -f1,2 > "$tmp/mscored"
cmp -s "$tmp/mbest" "$tmp/mscored" && ok "the model of all kinds: --score reproduces --best" \
  || bad "mixture --best/--score: $(paste "$tmp/mbest" "$tmp/mscored" | head -2)"

# --- sampling without --label prints each name's label; seeded ---
"$sample" -c "$best" --count 40 --seed 3 > "$tmp/draw"
awk -F"$tab" 'NF != 2 || ($2 != "saurus" && $2 != "other") { bad = 1 } END { exit bad }' "$tmp/draw" \
  && ok "each sampled name has its label" || bad "sampled lines: $(head -3 "$tmp/draw")"
OMP_NUM_THREADS=3 "$sample" -c "$best" --count 40 --seed 3 | cmp -s - "$tmp/draw" \
  && ok "the same seed draws the same names and labels" || bad "labeled sampling not reproducible"
"$sample" -c "$best" --count 3 --seed 3 --format json | grep -c '"label":' | grep -qx 3 \
  && ok "json samples carry the label" || bad "json samples without label"
"$sample" -c "$best" --label saurus --count 5 --seed 2 --format json | grep -c '"label":"saurus"' | grep -qx 5 \
  && ok "--label sampling" || bad "--label sampling"

# --label is read as a file's labels are: white space around it removed,
# NFC (a decomposed e + U+0301 is the file's precomposed U+00E9).
"$sample" -c "$best" --label ' saurus ' --count 2 --format json | grep -c '"label":"saurus"' | grep -qx 2 \
  && ok "--label with blanks around it" || bad "--label ' saurus '"
printf 'ana\tfran\303\251\nbob\tother\n' > "$tmp/nfc.txt"
"$bin/dinornn-train" --members 1 --data "$tmp/nfc.txt" --val-fraction 0 --layers 1 --hidden 4 --epochs 1 \
  --samples 0 --quiet --checkpoint-dir "$tmp/nfc" || bad "training on nfc.txt failed"
"$sample" -c "$tmp/nfc/latest.ckpt" --label "$(printf 'frane\314\201')" --count 1 | cut -f2 \
  | grep -qx "$(printf 'fran\303\251')" && ok "--label in NFC: a decomposed label finds the model's" \
  || bad "--label decomposed"

# --- --classify: probabilities that sum to 1, most likely first ---
"$sample" -c "$best" --classify Brachiosaurus Zuul > "$tmp/cls"
awk -F"$tab" 'NR == 1 { if ($2 !~ /^saurus /) exit 1 } { s = 0; for (i = 2; i <= NF; i++) { split($i, a, " "); s += a[2] }
  if (s < 0.999 || s > 1.001) exit 1 }' "$tmp/cls" \
  && ok "--classify: -saurus names are saurus, probabilities sum to 1" || bad "--classify: $(cat "$tmp/cls")"
"$sample" -c "$best" --classify Brachiosaurus --format json > "$tmp/clsj"
grep -q '^{"name":"Brachiosaurus","label":"saurus","labels":\[{"label":"saurus","probability":' "$tmp/clsj" \
  && ok "--classify json" || bad "--classify json: $(cat "$tmp/clsj")"

# --- dinornn-eval: per-label loss, accuracy, confusion matrix ---
"$eval_" -c "$best" > "$tmp/ev"
grep -Eq '^labels: accuracy [0-9.]+%' "$tmp/ev" && grep -Eq '^saurus +[0-9]+ +[0-9.]+ +[0-9]+ [0-9]+$' "$tmp/ev" \
  && ok "dinornn-eval prints accuracy and the confusion matrix" || bad "eval: $(cat "$tmp/ev")"
"$eval_" -c "$best" --format json > "$tmp/evj"
python3 - "$tmp/evj" <<'PY' && ok "dinornn-eval json: per-label figures add up" || bad "eval json: $(cat "$tmp/evj")"
import json, sys
r = json.load(open(sys.argv[1]))
labels = r["labels"]
assert sum(l["names"] for l in labels) == r["names"]
assert sum(l["chars"] for l in labels) == r["chars"]
tot = sum(l["nats_per_char"] * l["chars"] for l in labels) / r["chars"]
assert abs(tot - r["nats_per_char"]) < 1e-6, (tot, r["nats_per_char"])
assert sum(sum(l["confusion"]) for l in labels) == r["names"]
assert sum(l["confusion"][i] for i, l in enumerate(labels)) == r["correct"]
PY

# --- refusals ---
expect 2 "--label 'dragon': .* has no such label; its labels are: other, saurus" "unknown label" -- \
  "$sample" -c "$best" --label dragon --count 1
"$bin/dinornn-train" --members 1 --data "$data" --layers 1 --hidden 8 --epochs 1 --samples 0 --quiet \
  --checkpoint-dir "$tmp/plain" || bad "plain training failed"
expect 2 "trained on names without labels" "--label on a model without labels" -- \
  "$sample" -c "$tmp/plain/latest.ckpt" --label saurus --count 1
expect 2 "trained on names without labels" "--classify on a model without labels" -- \
  "$sample" -c "$tmp/plain/latest.ckpt" --classify rex
expect 2 "U\+0009 \\(tab\\)" "a name with a tab" -- "$sample" -c "$best" --score "rex${tab}saurus"
printf 'rex\tsaurus\ntriceratops\n' > "$tmp/mixed.txt"
expect 1 "mixed.txt:2:" "a file mixing labeled and unlabeled lines" -- \
  "$bin/dinornn-train" --data "$tmp/mixed.txt" --epochs 1 --checkpoint-dir "$tmp/m"
printf 'rex\tdragon\n' > "$tmp/val.txt"
expect 1 "val.txt: label 'dragon' is not one of the model's labels \(other, saurus\).*\(a new model's labels are those of its training names, .*lab.txt\)" \
  "a validation label the training names lack" -- \
  "$bin/dinornn-train" --data "$tmp/lab.txt" --val-data "$tmp/val.txt" --epochs 1 --checkpoint-dir "$tmp/v"
printf 'rex\ntriceratops\n' > "$tmp/plainval.txt"
expect 1 "plainval.txt: the names have no labels, but the model was trained with labels \(other, saurus\)" \
  "an unlabeled validation file for labeled training names" -- \
  "$bin/dinornn-train" --data "$tmp/lab.txt" --val-data "$tmp/plainval.txt" --epochs 1 --checkpoint-dir "$tmp/v"
expect 1 "val.txt: the names have labels, but the model was trained without: remove the labels" \
  "a labeled validation file for unlabeled training names" -- \
  "$bin/dinornn-train" --data "$data" --val-data "$tmp/val.txt" --epochs 1 --checkpoint-dir "$tmp/v"
expect 1 "lab.txt: the names have labels, but the model was trained without.*\(the checkpoint's model was trained without labels\)" \
  "resuming a model without labels on a labeled list" -- \
  "$bin/dinornn-train" --resume="$tmp/plain/latest.ckpt" --data "$tmp/lab.txt" --force --epochs 2 \
  --checkpoint-dir "$tmp/plain"
expect 2 "--classify takes names only: it cannot be combined with .*--label" "--classify with --label" -- \
  "$sample" -c "$best" --classify --label saurus rex
expect 2 "--score and --classify cannot be combined" "--score with --classify" -- \
  "$sample" -c "$best" --score --classify rex
expect 2 "--classify needs at least one NAME" "--classify without a name" -- "$sample" -c "$best" --classify
expect 2 "--classify: 'r7x' not classified: symbol '7'" "--classify of a name with an unknown symbol" -- \
  "$sample" -c "$best" --classify r7x rex
grep -q '^Rex	' "$tmp/out" && ok "... the other names are classified" || bad "--classify r7x rex: $(cat "$tmp/out")"

# --- dinornn-eval on files whose labels do not fit the model ---
expect 1 "val.txt: label 'dragon' is not one of the model's labels \(other, saurus\)" \
  "dinornn-eval of a file with a label the model lacks" -- "$eval_" -c "$best" --data "$tmp/val.txt"
expect 1 "plainval.txt: the names have no labels, but the model was trained with labels" \
  "dinornn-eval of an unlabeled file under a labeled model" -- "$eval_" -c "$best" --data "$tmp/plainval.txt"
expect 0 "" "dinornn-eval of a labeled list under a model without labels: the names alone" -- \
  "$eval_" -c "$tmp/plain/latest.ckpt" --data "$tmp/lab.txt"
grep -q '^labels:' "$tmp/out" && bad "a model without labels printed label figures" \
  || ok "... without label figures"

# --- bash completion: --label and -l offer the checkpoint's labels ---
complete_words() {
  bash -c '. "$1/docs/bash-completion/dinornn"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
    _dinornn "$1" 2>/dev/null; printf "%s\n" "${COMPREPLY[@]}"' sh "$top_srcdir" "$@"
}
[ "$(complete_words "$sample" -c "$best" --label '' | tr '\n' ' ')" = "other saurus " ] \
  && ok "completion: --label offers the checkpoint's labels" \
  || bad "completion of --label: $(complete_words "$sample" -c "$best" --label '' | tr '\n' ' ')"
[ "$(complete_words "$sample" --checkpoint "$best" -l sa)" = saurus ] \
  && ok "completion: -l sa" || bad "completion of -l sa: $(complete_words "$sample" --checkpoint "$best" -l sa)"
[ -z "$(complete_words "$sample" -c "$tmp/plain/latest.ckpt" --label '')" ] \
  && ok "completion: no labels for a model without them" || bad "completion offered labels of a plain model"
[ "$(complete_words "$sample" --cl)" = "--classify " ] && ok "completion: --classify" \
  || bad "completion of --cl: $(complete_words "$sample" --cl)"

# --- the help says what the labels do ---
"$sample" --help | tr '\n' ' ' | grep -q 'each name with a label drawn from P(label | name)' \
  && ok "dinornn-sample --help: a sampled name's label is drawn from P(label | name)" \
  || bad "dinornn-sample --help on labels"
"$eval_" --help | grep -q 'NAME<TAB>LABEL' && "$bin/dinornn-train" --help | grep -q 'NAME<TAB>LABEL' \
  && ok "dinornn-train and dinornn-eval --help name labeled lists" || bad "--help without labeled lists"
finish

#!/usr/bin/env bash
# cli-unicode.sh: names as Unicode text, through the programs. A name
# written decomposed (e + U+0301) or precomposed (é), with no-break or
# ideographic spaces around it, is the same name in the training data, a
# validation file, dinornn-eval's data, --prefix and --score; names a
# lowercased model prints are title-cased by Unicode's rule.
. "${top_srcdir:-.}/tests/cli-lib.sh"
train=$bin/dinornn-train sample=$bin/dinornn-sample eval_=$bin/dinornn-eval

# The same names twice: NFC and no white space, then decomposed and wrapped
# in U+00A0, U+3000 and U+2003 (octal escapes: the test needs no UTF-8 locale).
acute=$'\314\201' nbsp=$'\302\240' ideo=$'\343\200\200' em=$'\342\200\203'
printf 'Jos\303\251\nRen\303\251e\nNguy\341\273\205n\n\307\204emal\n\304\260smail\nMaria\nJosefa\nRenata\n' \
  > "$tmp/nfc.txt"
printf '%s\n' "${nbsp}Jose${acute}${ideo}" "Rene${acute}e${nbsp}" "${em}Nguye"$'\314\202\314\203'"n" \
  $'\307\204'"emal" "${ideo}"$'\304\260'"smail" "Maria${em}" "Josefa" "${nbsp}Renata" > "$tmp/nfd.txt"
cmp -s "$tmp/nfc.txt" "$tmp/nfd.txt" && bad "the two spellings are the same bytes: the test proves nothing"

# --- training data: the same checkpoint, byte for byte (same path) ---
tiny=(--data "$tmp/names.txt" --cell gru --layers 1 --hidden 8 --epochs 2 --samples 0 --quiet --val-fraction 0.25)
cp "$tmp/nfc.txt" "$tmp/names.txt"
"$train" --members 1 "${tiny[@]}" --checkpoint-dir "$tmp/a" || bad "training on the NFC file failed"
cp "$tmp/nfd.txt" "$tmp/names.txt"
"$train" --members 1 "${tiny[@]}" --checkpoint-dir "$tmp/b" || bad "training on the decomposed file failed"
cmp -s "$tmp/a/latest.ckpt" "$tmp/b/latest.ckpt" \
  && ok "decomposed names with Unicode spaces around them train exactly as their NFC spelling" \
  || bad "the two spellings gave different checkpoints"
ck=$tmp/a/latest.ckpt

# --- --prefix and --score ---
"$sample" -c "$ck" --best 3 --prefix "José" > "$tmp/p1" 2>&1
"$sample" -c "$ck" --best 3 --prefix "Jose${acute}" > "$tmp/p2" 2>&1
if [ -s "$tmp/p1" ] && cmp -s "$tmp/p1" "$tmp/p2" && [ "$(grep -c '^José' "$tmp/p1")" -eq 3 ]; then
  ok "--prefix: decomposed and precomposed give the same names"
else
  bad "--prefix: '$(head -c 200 "$tmp/p1")' vs '$(head -c 200 "$tmp/p2")'"
fi
"$sample" -c "$ck" --score "Renée" --format json > "$tmp/s1" 2>&1
"$sample" -c "$ck" --score "${ideo}Rene${acute}e${nbsp}" --format json > "$tmp/s2" 2>&1
score() { sed -n 's/.*"logprob":\([-0-9.e]*\).*/\1/p' "$1"; }
if [ -n "$(score "$tmp/s1")" ] && [ "$(score "$tmp/s1")" = "$(score "$tmp/s2")" ]; then
  ok "--score: the same log-probability for both spellings ($(score "$tmp/s1"))"
else
  bad "--score: '$(cat "$tmp/s1")' vs '$(cat "$tmp/s2")'"
fi

# --- constraints (--suffix, --contains, --exclude, --pattern): precomposed,
# decomposed and capital spellings are one constraint ---
for opt in --contains --suffix --pattern; do
  v1=$'\303\251'e v2=e${acute}E v3=$'\303\211'e   # "ée", decomposed "éE", "Ée"
  [ $opt = --pattern ] && v1="*$v1" v2="*$v2" v3="*$v3"
  "$sample" -c "$ck" --best 3 "$opt" "$v1" > "$tmp/c1" 2>&1
  "$sample" -c "$ck" --best 3 "$opt" "$v2" > "$tmp/c2" 2>&1
  "$sample" -c "$ck" --best 3 "$opt" "$v3" > "$tmp/c3" 2>&1
  if [ "$(grep -cE $'(\303\251|\303\211)e' "$tmp/c1")" -eq 3 ] && cmp -s "$tmp/c1" "$tmp/c2" && cmp -s "$tmp/c1" "$tmp/c3"; then
    ok "$opt: ée, decomposed éE and Ée are the same constraint"
  else
    bad "$opt: '$(head -c 200 "$tmp/c1")' vs '$(head -c 200 "$tmp/c2")' vs '$(head -c 200 "$tmp/c3")'"
  fi
done
"$sample" -c "$ck" --best 20 --exclude "E${acute}" > "$tmp/x1" 2>&1
[ -s "$tmp/x1" ] && ! grep -q $'\303\251' "$tmp/x1" && ok "--exclude: a decomposed capital É excludes é" \
  || bad "--exclude É: $(head -c 300 "$tmp/x1")"

# --- evaluation data and a validation file ---
"$eval_" -c "$ck" --data "$tmp/nfc.txt" --format json > "$tmp/e1" 2>&1
"$eval_" -c "$ck" --data "$tmp/nfd.txt" --strict --format json > "$tmp/e2" 2>&1
grep -q '"names":8,' "$tmp/e1" && cmp -s "$tmp/e1" "$tmp/e2" \
  && ok "dinornn-eval: both spellings score the same, every name known" \
  || bad "dinornn-eval: '$(cat "$tmp/e1")' vs '$(cat "$tmp/e2")'"
for f in nfc nfd; do
  "$train" --members 1 --data "$tmp/nfc.txt" --val-data "$tmp/$f.txt" --layers 1 --hidden 8 --epochs 1 \
    --samples 0 --quiet --log "$tmp/$f.jsonl" --checkpoint-dir "$tmp/v$f" || bad "--val-data $f failed"
done
val() { sed -n 's/.*"val_loss":\([-0-9.e]*\).*/\1/p' "$1"; }
[ -n "$(val "$tmp/nfc.jsonl")" ] && [ "$(val "$tmp/nfc.jsonl")" = "$(val "$tmp/nfd.jsonl")" ] \
  && ok "--val-data: the same validation loss for both spellings" \
  || bad "--val-data: $(val "$tmp/nfc.jsonl") vs $(val "$tmp/nfd.jsonl")"

# --- title case of the names printed ---
# ǆ's title case is the digraph ǅ (U+01C5), not Ǆ; İ was lowercased to i and
# U+0307, whose title case composes back into İ.
expect 0 '' "--best with the prefix ǆ" -- "$sample" -c "$ck" --best 1 --prefix $'\307\206'
grep -q $'^\307\205' "$tmp/out" && ok "a name starting with ǆ prints as ǅ..." \
  || bad "ǆ printed as: $(cat "$tmp/out")"
expect 0 '' "--best with the prefix İ" -- "$sample" -c "$ck" --best 1 --prefix $'\304\260'
grep -q $'^\304\260' "$tmp/out" && ok "a name starting with İ prints as İ (U+0130) again" \
  || bad "İ printed as: $(od -c "$tmp/out" | head -3)"
finish

#!/usr/bin/env bash
# cli-sample.sh: dinornn-sample and dinornn-eval on a freshly trained model.
. "${top_srcdir:-.}/tests/cli-lib.sh"
sample=$bin/dinornn-sample
eval_=$bin/dinornn-eval
ck=$tmp/ck
"$bin/dinornn-train" --members 1 --data "$data" --layers 1 --hidden 32 --epochs 3 --samples 0 --quiet \
  --checkpoint-dir "$ck" --log "$tmp/train.jsonl" || { echo "training failed"; exit 1; }
best=$ck/best.ckpt

# --- prefix, reproducibility ---
"$sample" -c "$best" --prefix tyr --count 20 --seed 7 > "$tmp/a"
[ "$(wc -l < "$tmp/a")" -eq 20 ] && ok "20 names printed" || bad "$(wc -l < "$tmp/a") names printed"
grep -vq '^Tyr' "$tmp/a" && bad "a name does not start with the prefix: $(grep -v '^Tyr' "$tmp/a" | head -1)" \
  || ok "every name starts with the prefix, capitalised"
OMP_NUM_THREADS=1 "$sample" -c "$best" --prefix tyr --count 20 --seed 7 > "$tmp/b"
OMP_NUM_THREADS=4 "$sample" -c "$best" --prefix tyr --count 20 --seed 7 > "$tmp/c"
cmp -s "$tmp/a" "$tmp/b" && cmp -s "$tmp/a" "$tmp/c" && ok "same seed, same names, for any thread count" \
  || bad "output changed between runs"
"$sample" -c "$best" --prefix tyr --count 20 --seed 8 > "$tmp/d"
cmp -s "$tmp/a" "$tmp/d" && bad "another seed gave the same names" || ok "another seed gives other names"

# --- greedy: temperature 0 and top-k 1 agree; a small temperature approaches it ---
"$sample" -c "$best" --temperature 0 --count 3 > "$tmp/t0"
"$sample" -c "$best" --top-k 1 --count 3 --seed 3 > "$tmp/k1"
"$sample" -c "$best" --temperature 0.0001 --count 3 --seed 4 > "$tmp/cold"
cmp -s "$tmp/t0" "$tmp/k1" && ok "temperature 0 equals top-k 1" || bad "temperature 0 and top-k 1 differ"
cmp -s "$tmp/t0" "$tmp/cold" && ok "temperature 0.0001 equals greedy" || bad "a cold temperature strays from greedy"
[ "$(sort -u "$tmp/t0" | wc -l)" -eq 1 ] && ok "greedy decoding repeats one name" || bad "greedy decoding varied"

# --- --best: non-increasing log-probabilities that --score reproduces ---
"$sample" -c "$best" --prefix tyr --best 8 > "$tmp/best"
[ "$(wc -l < "$tmp/best")" -eq 8 ] && ok "--best 8 gives 8 names" || bad "--best gave $(wc -l < "$tmp/best") names"
sort -t "$(printf '\t')" -k2,2 -g -r -s "$tmp/best" | cmp -s - "$tmp/best" \
  && ok "--best is sorted by decreasing log-probability" || bad "--best is not sorted: $(cat "$tmp/best")"
cut -f1 "$tmp/best" | xargs "$sample" -c "$best" --score | cut -f1,2 > "$tmp/scored"
cmp -s "$tmp/best" "$tmp/scored" && ok "--score reproduces --best's log-probabilities" \
  || bad "--best and --score disagree: $(paste "$tmp/best" "$tmp/scored" | head -3)"
"$sample" -c "$best" --prefix tyr --best 8 --count 3 --temperature 2 > "$tmp/best2" 2> "$tmp/warn"
cmp -s "$tmp/best" "$tmp/best2" && grep -q 'warning: --count, --temperature and --top-k do not apply to --best' "$tmp/warn" \
  && ok "--best ignores sampling options, with a warning" || bad "--best with --count: $(cat "$tmp/warn")"
"$sample" -c "$best" --prefix tyr --best 2 --format json > "$tmp/json"
grep -Eq '^\{"name":"Tyr[a-z]*","logprob":-[0-9.]+,"exact":true\}$' "$tmp/json" && ok "--best --format json" \
  || bad "unexpected JSON: $(cat "$tmp/json")"

# --- --best is exact: its top K equal those of every name scored by --score ---
# brute CKPT K MAXLEN NAME...: the K best log-probabilities of the names given
# (all names that fit) against --best K with that bound and prefix.
top_scores() { sort -t "$(printf '\t')" -k2,2gr | head -n "$1" | cut -f2; }
brute() {
  local ck=$1 k=$2 maxlen=$3 prefix=$4 what=$5
  shift 5
  printf '%s\n' "$@" | xargs "$sample" -c "$ck" --score | cut -f1,2 | top_scores "$k" > "$tmp/brute"
  "$sample" -c "$ck" --best "$k" --max-length "$maxlen" --prefix "$prefix" > "$tmp/found"
  cut -f2 "$tmp/found" | cmp -s - "$tmp/brute" && [ "$(wc -l < "$tmp/found")" -eq "$k" ] \
    && ok "--best $k equals brute force: $what" \
    || bad "--best $k, $what: $(paste "$tmp/found" "$tmp/brute" | head -8 | tr '\n\t' '; ')"
}
# Every name 'ty' to 'ty???' (18,279 names) under the model trained above.
three=$(printf '%s ' {a..z}{a..z}{a..z}) two=$(printf '%s ' {a..z}{a..z}) one=$(printf '%s ' {a..z})
# shellcheck disable=SC2086
all_ty=$(for x in "" $one $two $three; do printf 'ty%s\n' "$x"; done)
for k in 1 5 20; do
  # shellcheck disable=SC2086
  brute "$best" $k 5 ty "prefix ty, names of at most 5 letters" $all_ty
done
# The case that showed the former beam search inexact: a 1x32 GRU trained 15
# epochs, where a beam of width 5 left out names above its fifth.
"$bin/dinornn-train" --members 1 --data "$data" --cell gru --layers 1 --hidden 32 --epochs 15 --samples 0 --quiet \
  --checkpoint-dir "$tmp/ckgru" || bad "GRU training failed"
# shellcheck disable=SC2086
brute "$tmp/ckgru/best.ckpt" 5 5 ty "1x32 GRU, 15 epochs, prefix ty" $all_ty
# A model trained with --keep-case over a small mixed-case alphabet: every name
# of at most 4 symbols, no prefix and a prefix that may end at once.
printf 'Ab\nbA\nAbc\ncAb\nBAc\nbbA\nAAb\nc\nBc\ncA\n' > "$tmp/case.txt"
"$bin/dinornn-train" --members 1 --data "$tmp/case.txt" --keep-case --cell lstm --layers 2 --hidden 8 --epochs 3 \
  --samples 0 --quiet --checkpoint-dir "$tmp/ckcase" --val-data "$tmp/case.txt" || bad "keep-case training failed"
syms="A B b c"
all4=$(for a in $syms; do echo "$a"; for b in $syms; do echo "$a$b"; for c in $syms; do echo "$a$b$c"
  for d in $syms; do echo "$a$b$c$d"; done; done; done; done)
for k in 1 5 20; do
  # shellcheck disable=SC2086
  brute "$tmp/ckcase/latest.ckpt" $k 4 "" "keep-case, no prefix" $all4
done
# shellcheck disable=SC2086
brute "$tmp/ckcase/latest.ckpt" 5 4 "Ab" "keep-case, prefix Ab" $(printf '%s\n' $all4 | grep '^Ab')
"$sample" -c "$tmp/ckcase/latest.ckpt" --best 3 --prefix Abcb --max-length 4 > "$tmp/whole"
[ "$(cut -f1 "$tmp/whole")" = Abcb ] && ok "a prefix as long as --max-length is itself the one candidate" \
  || bad "prefix as the whole name: $(cat "$tmp/whole")"

# --- constraints on the shape: --suffix, --contains, --exclude, --pattern ---
# --best under constraints against brute force: every name 'ty' to 'ty???'
# scored once without them, filtered here by regular expressions (not the
# program's automaton), the top K of what is left.
printf '%s\n' $all_ty | xargs "$sample" -c "$best" --score | cut -f1,2 > "$tmp/all_ty.scored"
# brute_c K KEEP DROP DESCRIPTION -- OPTION...: --best K --prefix ty
# --max-length 5 with the options equals the K best of the scored names
# (lowercased) that match the extended regex KEEP and not DROP (if not
# empty), and with --novel among the options are not training names.
brute_c() {
  local k=$1 keep=$2 drop=$3 what=$4 novel=0
  shift 5
  case " $* " in *" --novel "*) novel=1 ;; esac
  awk -F '\t' -v keep="$keep" -v drop="$drop" -v novel=$novel \
    'NR == FNR { if (novel) known[tolower($0)] = 1; next }
     { n = tolower($1) } n ~ keep && (drop == "" || n !~ drop) && !(n in known)' \
    "$data" "$tmp/all_ty.scored" | top_scores "$k" > "$tmp/brute"
  "$sample" -c "$best" --best "$k" --prefix ty --max-length 5 "$@" > "$tmp/found" 2> "$tmp/found.err"
  local misfits
  misfits=$(cut -f1 "$tmp/found" | tr 'A-Z' 'a-z' | awk -v keep="$keep" -v drop="$drop" \
    '!($0 ~ keep && (drop == "" || $0 !~ drop))')
  [ -z "$misfits" ] && [ -s "$tmp/brute" ] && cut -f2 "$tmp/found" | cmp -s - "$tmp/brute" \
    && ok "--best $k $what equals brute force ($(wc -l < "$tmp/found") names)" \
    || bad "--best $k $what: misfits '$misfits'; $(paste "$tmp/found" "$tmp/brute" | head -6 | tr '\n\t' '; ') $(cat "$tmp/found.err")"
}
brute_c 10 's$' '' "--suffix s" -- --suffix s
brute_c 10 'ro' '' "--contains ro" -- --contains ro
brute_c 10 'a.*o|o.*a' '' "--contains a --contains o" -- --contains a --contains o
brute_c 10 '.' '[aeiou]' "--exclude aeiou" -- --exclude aeiou
brute_c 10 '^ty.[aeiou]' '' "--pattern 'ty?[aeiou]*'" -- --pattern 'ty?[aeiou]*'
brute_c 10 '^.....$' '' "--pattern '?????'" -- --pattern '?????'
brute_c 10 '^ty[^a-m]' '' "--pattern 'ty[!a-m]*' (a negated range)" -- --pattern 'ty[!a-m]*'
brute_c 10 'r.*s$' 'a' "--contains r --suffix s --exclude a" -- --contains r --suffix s --exclude a
brute_c 5 '^....$' 'o' "--pattern '*' --min-length 4 --max-length 4 --exclude o" -- \
  --pattern '*' --min-length 4 --max-length 4 --exclude o
brute_c 10 'yr' '' "--contains yr (across the prefix)" -- --contains yr
brute_c 10 '^ty.*s$' '' "--pattern 'ty*s' --suffix s (the same s)" -- --pattern 'ty*s' --suffix s
brute_c 3 'e$' '' "--suffix E (a capital) --novel" -- --suffix E --novel
brute_c 10 'r' '' "--contains r --novel" -- --contains r --novel
# Capitals are the same constraint, for a model that lowercased its names.
"$sample" -c "$best" --best 5 --suffix saurus --contains RA > "$tmp/lower"
"$sample" -c "$best" --best 5 --suffix SAURUS --contains ra > "$tmp/upper"
[ -s "$tmp/lower" ] && cmp -s "$tmp/lower" "$tmp/upper" && ok "--suffix SAURUS --contains ra equals --suffix saurus --contains RA" \
  || bad "capitals changed the answer: $(paste "$tmp/lower" "$tmp/upper" | head -3)"
# Every --best name meets them by --score, and a plain top name misses them.
"$sample" -c "$best" --best 8 --prefix ty --pattern '*[aeiou]?' --exclude s > "$tmp/shape"
cut -f1 "$tmp/shape" | xargs "$sample" -c "$best" --score --pattern '*[aeiou]?' --exclude s > "$tmp/shape.scored"
[ "$(grep -c $'\tmeets the constraints$' "$tmp/shape.scored")" -eq 8 ] && cut -f1,2 "$tmp/shape.scored" | cmp -s - "$tmp/shape" \
  && ok "--score of the --best names: each meets the constraints, with the same log-probability" \
  || bad "--score under constraints: $(head -c 400 "$tmp/shape.scored")"
expect 0 "" "--score says which names miss the constraints" -- "$sample" -c "$best" --score Tyrannosaurus Tyros --suffix os
[ "$(cut -f4 "$tmp/out" | tr '\n' ';')" = "does not meet the constraints;meets the constraints;" ] \
  && ok "... Tyrannosaurus does not end in 'os', Tyros does" || bad "... $(cat "$tmp/out")"
# Sampling: every name meets them, with the prefix and the lengths.
"$sample" -c "$best" --count 30 --prefix a --contains o --suffix us --exclude x --min-length 6 --max-length 12 --seed 3 > "$tmp/drawn"
awk '{ n = tolower($0) } !(n ~ /^a.*o.*us$/ && n !~ /x/ && length(n) >= 6 && length(n) <= 12) { bad = 1 }
     END { exit bad || NR != 30 }' "$tmp/drawn" \
  && ok "30 names drawn under --prefix a --contains o --suffix us --exclude x, lengths 6-12, all meet them" \
  || bad "drawn under constraints: $(tr '\n' ' ' < "$tmp/drawn" | head -c 300)"
"$sample" -c "$best" --count 30 --pattern '?[!aeiou]???' --novel --seed 4 > "$tmp/drawn"
copies=$(tr 'A-Z' 'a-z' < "$tmp/drawn" | grep -Fxc -f <(tr 'A-Z' 'a-z' < "$data") || true)
awk '{ n = tolower($0) } !(n ~ /^.[^aeiou]...$/) { bad = 1 } END { exit bad || NR != 30 }' "$tmp/drawn" && [ "$copies" -eq 0 ] \
  && ok "30 novel names drawn under --pattern '?[!aeiou]???'" || bad "drawn by pattern: $copies copies, $(tr '\n' ' ' < "$tmp/drawn")"
"$sample" -c "$best" --count 5 --suffix us --seed 9 > "$tmp/s1"
"$sample" -c "$best" --count 5 --suffix us --seed 9 > "$tmp/s2"
cmp -s "$tmp/s1" "$tmp/s2" && ok "sampling under constraints is reproducible" || bad "same seed, other names"
# Symbols the model never saw: refused, naming the option and the symbol,
# except where the constraint can be met without them.
expect 2 "^dinornn-sample: --suffix 'sa7': symbol '7' \(U\+0037\) is not in the model's vocabulary$" \
  "an unknown symbol in --suffix" -- "$sample" -c "$best" --suffix sa7 --best 3
expect 2 "^dinornn-sample: --contains '9': symbol '9' \(U\+0039\)" "... in --contains" -- "$sample" -c "$best" --contains a --contains 9
expect 2 "^dinornn-sample: --pattern 'a7\*': symbol '7'" "... a literal of --pattern" -- "$sample" -c "$best" --pattern 'a7*'
expect 2 "^dinornn-sample: --pattern '\[79\]\*': the class at character 1 matches no symbol" \
  "... a class of unknown symbols only" -- "$sample" -c "$best" --pattern '[79]*' --best 3
expect 0 "" "... but not in --exclude or among others in a class" -- "$sample" -c "$best" --exclude '7q' --pattern '[a7]*' --best 3
[ "$(wc -l < "$tmp/out")" -eq 3 ] && ! grep -qi q "$tmp/out" && [ -z "$(cut -f1 "$tmp/out" | grep -v '^A')" ] \
  && ok "... whose names start with A and have no q" || bad "... names: $(cat "$tmp/out")"
# Malformed constraints, and a suffix longer than any name allowed.
expect 2 "^dinornn-sample: --pattern '\[ab\*': the '\[' at character 1 is not closed by '\]'$" "an unclosed '[' in --pattern" -- \
  "$sample" -c "$best" --pattern '[ab*' --best 3
expect 2 "^dinornn-sample: --pattern: empty" "an empty --pattern" -- "$sample" -c "$best" --pattern '' --best 3
expect 2 "^dinornn-sample: --pattern 'a\\\\': " "a trailing backslash in --pattern" -- "$sample" -c "$best" --pattern 'a\'
expect 2 "^dinornn-sample: --pattern '\[z-a\]': the range at character 3 is reversed" "a reversed range" -- "$sample" -c "$best" --pattern '[z-a]'
expect 2 "^dinornn-sample: --suffix 'saurus' has 6 symbols, more than the longest name allowed \(5\); give a shorter one, or a larger --max-length$" \
  "a --suffix longer than --max-length" -- "$sample" -c "$best" --suffix saurus --max-length 5 --best 3
contains33=(); for i in $(seq 33); do contains33+=(--contains a); done
expect 2 "^dinornn-sample: --contains: given more than 32 times, the most it takes$" "33 --contains" -- \
  "$sample" -c "$best" "${contains33[@]}"
expect 2 "^dinornn-sample: the constraints are too complex: their automaton needs more than 20000 states; " \
  "constraints whose automaton would be too large" -- "$sample" -c "$best" --pattern "*a$(printf '?%.0s' $(seq 16))" --best 2
# Valid constraints that no name meets: no names, one line saying why,
# status 0, at once (not a search to the bound).
expect 0 "^dinornn-sample: no name meets the constraints: the pattern 'a\*' does not allow names that start with the prefix 'x'$" \
  "a --prefix that the --pattern excludes, --best" -- timeout 10 "$sample" -c "$best" --prefix X --pattern 'a*' --best 10
[ -s "$tmp/out" ] && bad "... printed names: $(cat "$tmp/out")" || ok "... and prints no name"
[ "$(wc -l < "$tmp/err")" -eq 1 ] && ok "... in one line" || bad "... stderr: $(cat "$tmp/err")"
expect 0 "^dinornn-sample: no name meets the constraints: the pattern 'a\*' does not allow" "... and sampling, at once" -- \
  timeout 10 "$sample" -c "$best" --prefix x --pattern 'a*' --count 1000000
[ -s "$tmp/out" ] && bad "... sampling printed names" || ok "... sampling prints no name"
expect 0 "^dinornn-sample: no name meets the constraints: the suffix 'us' uses 's', which exclude forbids$" \
  "a --suffix that --exclude forbids" -- timeout 10 "$sample" -c "$best" --suffix us --exclude s --best 5
expect 0 "^dinornn-sample: no name meets the constraints: the contains string 'abcdef' has 6 symbols, more than the longest name allowed \(5\)$" \
  "a --contains longer than --max-length" -- timeout 10 "$sample" -c "$best" --contains abcdef --max-length 5 --best 5 --novel
expect 0 "^dinornn-sample: no name meets the constraints: the pattern '\?\?\?' matches only names of 3 symbols, fewer than the shortest allowed \(4\)$" \
  "a --pattern shorter than --min-length" -- timeout 10 "$sample" -c "$best" --pattern '???' --min-length 4
expect 0 "^dinornn-sample: no name can meet the constraints: the suffix 'us' uses 's', which exclude forbids$" \
  "--score under constraints that no name meets" -- "$sample" -c "$best" --score Tyros --suffix us --exclude s
[ "$(cut -f4 "$tmp/out")" = "does not meet the constraints" ] && ok "... scores the name, as not meeting them" || bad "... $(cat "$tmp/out")"
# Too rare to draw: the names found, how many of how many in how many
# draws, and --best suggested; status 1.
expect 1 "^dinornn-sample: found [0-9]+ of 5 names in 200 draws \(the bound, --max-draws\): names that meet the constraints are too rare to draw; --best 5 gives the most likely ones, or raise --max-draws$" \
  "constraints too rare for --max-draws" -- "$sample" -c "$best" --contains zq --count 5 --max-draws 200
found=$(sed -n 's/.*found \([0-9]*\) of.*/\1/p' "$tmp/err")
[ "$(wc -l < "$tmp/out")" = "${found:-x}" ] && ok "... after printing the $found names it found" || bad "... printed $(wc -l < "$tmp/out"), said '$found'"
expect 1 "found [0-9]+ of 2 names in 2000 draws \(the bound" "... the default bound is 1000 draws a name" -- \
  "$sample" -c "$best" --contains zqz --count 2
expect 1 "the one name that --temperature 0 or --top-k 1 draws does not meet the constraints" \
  "greedy sampling whose one name misses them" -- timeout 10 "$sample" -c "$best" --temperature 0 --suffix zz --count 3
expect 0 "warning: --max-draws applies to sampling under --suffix, --contains, --exclude or --pattern only; ignored" \
  "--max-draws without constraints" -- "$sample" -c "$best" --max-draws 10 --count 2
# JSON: the names and the constraints they meet.
"$sample" -c "$best" --best 3 --prefix ty --suffix s --contains r --contains o --exclude q --pattern '*' --format json > "$tmp/json"
python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 3, lines
for l in lines:
    o = json.loads(l)
    assert o["exact"] is True and o["name"].lower().endswith("s"), o
    assert o["constraints"] == {"prefix": "ty", "suffix": "s", "contains": ["r", "o"], "exclude": "q", "pattern": "*"}, o
' "$tmp/json" && ok "--best --format json parses and carries the constraints" || bad "JSON: $(head -c 400 "$tmp/json")"
"$sample" -c "$best" --best 2 --pattern 'ty\r*' --format json > "$tmp/json"
python3 -c '
import json, sys
o = [json.loads(l) for l in open(sys.argv[1])]
assert len(o) == 2 and all(x["constraints"] == {"pattern": "ty\\r*"} and x["name"].startswith("Tyr") for x in o), o
' "$tmp/json" && ok "... a backslash in a constraint escaped" || bad "... backslash: $(head -c 300 "$tmp/json")"
"$sample" -c "$best" --count 2 --suffix us --format json > "$tmp/json"
"$sample" -c "$best" --score Tyrannosaurus Tyros --contains rus --format json >> "$tmp/json"
python3 -c '
import json, sys
o = [json.loads(l) for l in open(sys.argv[1])]
assert len(o) == 4 and all(x["constraints"] == {"suffix": "us"} for x in o[:2]), o
assert [x["meets_constraints"] for x in o[2:]] == [True, False] and o[2]["constraints"] == {"contains": ["rus"]}, o
' "$tmp/json" && ok "sampling and --score in JSON carry the constraints (and whether each name meets them)" \
  || bad "JSON: $(head -c 400 "$tmp/json")"
# A model that keeps case: capitals are other symbols.
expect 2 "--suffix 'a': symbol 'a' \(U\+0061\) is not in the model's vocabulary" "a keep-case model refuses a lowercase symbol it lacks" -- \
  "$sample" -c "$tmp/ckcase/latest.ckpt" --suffix a --best 3
"$sample" -c "$tmp/ckcase/latest.ckpt" --best 40 --max-length 4 --contains b > "$tmp/kb"
"$sample" -c "$tmp/ckcase/latest.ckpt" --best 40 --max-length 4 --contains B > "$tmp/kB"
if grep -qv b "$tmp/kb" || grep -qv B "$tmp/kB" || cmp -s "$tmp/kb" "$tmp/kB"; then
  bad "keep-case: --contains b and B: $(paste "$tmp/kb" "$tmp/kB" | head -3)"
else
  ok "keep-case: --contains b and --contains B give other names, each with its symbol"
fi
expect 0 "^dinornn-sample: only 1 name of 1 to 4 symbols meets the constraints$" "--best K when fewer names meet the constraints" -- \
  "$sample" -c "$tmp/ckcase/latest.ckpt" --best 5 --max-length 4 --pattern '??' --contains Ab
[ "$(cut -f1 "$tmp/out")" = Ab ] && ok "... that one name" || bad "... $(cat "$tmp/out")"
# --best under constraints on the keep-case model, against every name of at
# most 4 symbols scored (see above), filtered here.
printf '%s\n' $all4 | xargs "$sample" -c "$tmp/ckcase/latest.ckpt" --score | cut -f1,2 > "$tmp/all4.scored"
# brute4 KEEP DROP -- OPTION...: as brute_c, --best 8 --max-length 4.
brute4() {
  local keep=$1 drop=$2 novel=0
  shift 3
  case " $* " in *" --novel "*) novel=1 ;; esac
  awk -F '\t' -v keep="$keep" -v drop="$drop" -v novel=$novel \
    'NR == FNR { if (novel) known[$0] = 1; next } $1 ~ keep && (drop == "" || $1 !~ drop) && !($1 in known)' \
    "$tmp/case.txt" "$tmp/all4.scored" | top_scores 8 > "$tmp/brute"
  "$sample" -c "$tmp/ckcase/latest.ckpt" --best 8 --max-length 4 "$@" > "$tmp/found"
  [ -s "$tmp/found" ] && cut -f2 "$tmp/found" | cmp -s - "$tmp/brute" && ok "keep-case --best 8 $* equals brute force" \
    || bad "keep-case --best 8 $*: $(paste "$tmp/found" "$tmp/brute" | head -5 | tr '\n\t' '; ')"
}
brute4 'b$' '' -- --suffix b
brute4 '^A.*c' '' -- --prefix A --contains c
brute4 '^[^A]' '' -- --pattern '[!A]*'
brute4 '^...$' 'c' -- --pattern '???' --exclude c
brute4 'A.*B|B.*A' '' -- --contains B --pattern '*A*'
brute4 'A' '' -- --contains A --novel
# dinornn-bench --search on this model: a row for each constraint set.
expect 0 "" "dinornn-bench --search" -- "$bin/dinornn-bench" --search -c "$best" --format json
python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 10 and all(r["names"] == 10 and r["expanded"] > 0 for r in rows), rows
assert all(r["states"] > 0 for r in rows[1:]) and rows[1]["constraints"] == "--suffix saurus", rows
' "$tmp/out" && ok "... a row for each of the 10 constraint sets" || bad "... $(head -c 400 "$tmp/out")"
expect 2 "cannot be combined with --search" "dinornn-bench --search --config a" -- "$bin/dinornn-bench" --search --config a

# --- lengths, novelty and the search's bound ---
"$sample" -c "$best" --best 30 --min-length 6 --max-length 7 > "$tmp/len"
awk -F '\t' 'length($1) < 6 || length($1) > 7 { bad = 1 } END { exit bad || NR != 30 }' "$tmp/len" \
  && ok "--best respects --min-length and --max-length" || bad "--best lengths: $(cut -f1 "$tmp/len" | tr '\n' ' ')"
"$sample" -c "$best" --count 200 --min-length 6 --max-length 7 > "$tmp/len"
awk '{ n = length($0) } n < 6 || n > 7 { bad = 1 } END { exit bad || NR != 200 }' "$tmp/len" \
  && ok "sampling respects --min-length and --max-length" || bad "sampled lengths: $(tr '\n' ' ' < "$tmp/len" | head -c 300)"
# --novel --best against brute force: every name of at most 4 symbols but
# the training names, which the plain top 20 does hold.
"$sample" -c "$tmp/ckcase/latest.ckpt" --best 20 --max-length 4 > "$tmp/plain"
known=$(cut -f1 "$tmp/plain" | grep -Fxc -f "$tmp/case.txt" || true)
# shellcheck disable=SC2086
printf '%s\n' $all4 | grep -Fxv -f "$tmp/case.txt" | xargs "$sample" -c "$tmp/ckcase/latest.ckpt" --score \
  | cut -f1,2 | top_scores 20 > "$tmp/brute"
"$sample" -c "$tmp/ckcase/latest.ckpt" --best 20 --max-length 4 --novel > "$tmp/novelbest"
copies=$(cut -f1 "$tmp/novelbest" | grep -Fxc -f "$tmp/case.txt" || true)
[ "$known" -gt 0 ] && [ "$copies" -eq 0 ] && cut -f2 "$tmp/novelbest" | cmp -s - "$tmp/brute" \
  && ok "--novel --best: the top 20 of the names not in the data (the plain top 20 held $known)" \
  || bad "--novel --best: $copies copies, plain top 20 had $known: $(paste "$tmp/novelbest" "$tmp/brute" | head -5)"
# No novel name can exist: every one-symbol name is in the data. Both ways end
# at once and say how many they found.
printf 'A\nB\nb\nc\n' > "$tmp/all1.txt"
expect 0 "only 0 novel names in 1000 draws" "--novel sampling gives up when nothing new comes" -- \
  timeout 20 "$sample" -c "$tmp/ckcase/latest.ckpt" --novel --data "$tmp/all1.txt" --max-length 1 --count 100000
expect 0 "only 0 novel names of 1 to 1 symbols exist" "--novel --best when nothing new exists" -- \
  timeout 20 "$sample" -c "$tmp/ckcase/latest.ckpt" --novel --data "$tmp/all1.txt" --max-length 1 --best 5
"$sample" -c "$best" --best 5 --prefix '' > "$tmp/empty"
"$sample" -c "$best" --best 5 > "$tmp/none"
cmp -s "$tmp/empty" "$tmp/none" && ok "an empty --prefix is no prefix" || bad "--prefix '': $(cat "$tmp/empty")"
expect 0 "stopped at its bound.*first [0-9]+ names are exactly" "a bound that bites is reported" -- \
  "$sample" -c "$best" --best 40 --max-expansions 20 --format json
[ "$(grep -c '"exact":false' "$tmp/out")" -gt 0 ] && [ "$(wc -l < "$tmp/out")" -eq 40 ] \
  && sed 's/.*"logprob":\([-0-9.]*\).*/\1/' "$tmp/out" | sort -gr -s | cmp -s - <(sed 's/.*"logprob":\([-0-9.]*\).*/\1/' "$tmp/out") \
  && ok "and its names are marked exact:false and still in order" || bad "bounded search output: $(head -c 400 "$tmp/out")"
expect 2 "--min-length 9 is above --max-length 8" "--min-length above --max-length" -- \
  "$sample" -c "$best" --min-length 9 --max-length 8

# --- --score agrees with dinornn-eval on a one-name file ---
printf 'Tyrannosaurus\n' > "$tmp/one.txt"
per_char=$("$sample" -c "$best" --score Tyrannosaurus --format json | sed 's/.*"nats_per_char":\([0-9.]*\).*/\1/')
eval_nats=$("$eval_" -c "$best" --data "$tmp/one.txt" --format json | sed 's/.*"nats_per_char":\([0-9.]*\).*/\1/')
[ -n "$per_char" ] && [ "$per_char" = "$eval_nats" ] && ok "--score and dinornn-eval agree ($per_char)" \
  || bad "--score says '$per_char', dinornn-eval '$eval_nats'"

# --- --score scores every name it can, says why of each it cannot, and
# then exits 2 (it stopped at the first, and called an empty argument an
# empty file) ---
long=$(printf 'a%.0s' $(seq 300))
expect 2 "--score: 'Ab7' not scored: symbol '7' \(U\+0037\) is not in the model's vocabulary" \
  "--score with names it cannot score among others" -- \
  "$sample" -c "$best" --score Tyrannosaurus Ab7 "" "  " "$(printf 'a\nb')" "$long" "$(printf 'a\tb')" Velociraptor
[ "$(cut -f1 "$tmp/out" | tr '\n' ' ')" = "Tyrannosaurus Velociraptor " ] \
  && ok "... the others are scored, in order" || bad "... scored: $(cat "$tmp/out")"
grep -q "^dinornn-sample: --score: '' not scored: it is empty$" "$tmp/err" \
  && grep -q "^dinornn-sample: --score: '  ' not scored: it is only white space$" "$tmp/err" \
  && grep -q "not scored: it is several lines: give each name as an argument of its own" "$tmp/err" \
  && grep -q "^dinornn-sample: --score: 'a\{60\}\.\.\.' not scored: 300 symbols, more than the 256 a name may have$" "$tmp/err" \
  && grep -q "not scored: control character U+0009 (tab) at column 2" "$tmp/err" \
  && grep -q "^dinornn-sample: --score: 6 of 8 names not scored (see above)$" "$tmp/err" \
  && ! grep -qi "file" "$tmp/err" && ok "... each refused name with why, none called a file" || bad "... stderr: $(cat "$tmp/err")"
expect 2 "--score: '' not scored: it is empty" "--score '' alone" -- "$sample" -c "$best" --score ""
"$sample" -c "$best" --score Ab7 Tyrannosaurus --format json > "$tmp/json" 2>/dev/null
[ "$(wc -l < "$tmp/json")" -eq 1 ] && grep -q '^{"name":"Tyrannosaurus",' "$tmp/json" \
  && ok "... in JSON too, the names that can be are scored" || bad "JSON: $(cat "$tmp/json")"
expect 2 "--prefix: '  ' is only white space" "a blank --prefix is not an empty file" -- "$sample" -c "$best" --prefix "  "

# --- refusals say what happened and what to do ---
expect 2 "^dinornn-sample: --prefix: symbol '7' \(U\+0037\) is not in the model's vocabulary$" \
  "a prefix symbol unseen in training: no file line (was '--prefix:1:')" -- "$sample" -c "$best" --prefix ab7
"$bin/dinornn-train" --members 1 --data "$data" --layers 1 --hidden 8 --epochs 1 --samples 0 --quiet \
  --val-fraction 0 --checkpoint-dir "$tmp/noval" || bad "training without validation failed"
expect 1 "no names to evaluate \(the run had no validation split\): evaluate --split train or all, or --data FILE" \
  "dinornn-eval of a run without validation names says what to evaluate" -- "$eval_" -c "$tmp/noval/latest.ckpt"
expect 0 "" "... which --split all does" -- "$eval_" -c "$tmp/noval/latest.ckpt" --split all
printf 'Tyrannosaurus\nAb7\n' > "$tmp/one-unknown.txt"
expect 0 "one-unknown\.txt: 1 name with symbols outside the model's vocabulary skipped \(first on line 2; --strict refuses them\)" \
  "one skipped name is one name, not '1 names'" -- "$eval_" -c "$best" --data "$tmp/one-unknown.txt"
expect 1 "one-unknown\.txt: cannot rebuild the training split without the names skipped: evaluate all of the file with --split all, or another with --data FILE" \
  "--split on a file with skipped names says why it cannot, and what can" -- \
  "$eval_" -c "$best" --data "$tmp/one-unknown.txt" --split val --force
printf 'a\0b\n' > "$tmp/nul.txt"
expect 1 "nul\.txt:1: NUL byte" "--novel with a --data file that cannot be read" -- "$sample" -c "$best" --novel --data "$tmp/nul.txt"
grep -q "give them with --data" "$tmp/err" && bad "... tells to give the --data already given: $(cat "$tmp/err")" \
  || ok "... without telling to give the --data already given"
head -n 300 "$data" > "$tmp/gone.txt"
"$bin/dinornn-train" --members 1 --data "$tmp/gone.txt" --layers 1 --hidden 8 --epochs 1 --samples 0 --quiet \
  --checkpoint-dir "$tmp/gone" || bad "training on gone.txt failed"
rm "$tmp/gone.txt"
expect 1 "gone\.txt: no such file \(the training names recorded in the checkpoint, which --novel needs: give them with --data FILE\)" \
  "--novel whose recorded data is gone says to give it with --data" -- "$sample" -c "$tmp/gone/latest.ckpt" --novel -n 1

# --- UTF-16 names files are named as such, with the command that converts
# them (were "NUL byte: this looks like a binary file") ---
printf 'Tyrannosaurus\nVelociraptor\n' > "$tmp/u8.txt"
if command -v iconv >/dev/null; then
  iconv -f UTF-8 -t UTF-16 "$tmp/u8.txt" > "$tmp/u16bom.txt"   # with a byte-order mark
  iconv -f UTF-8 -t UTF-16LE "$tmp/u8.txt" > "$tmp/u16le.txt"
  iconv -f UTF-8 -t UTF-16BE "$tmp/u8.txt" > "$tmp/u16be.txt"
  for f in u16bom:UTF-16 u16le:UTF-16LE u16be:UTF-16BE; do
    expect 1 "${f%%:*}\.txt: this looks like UTF-16 text .*not UTF-8: convert it, for example with iconv -f ${f#*:} -t UTF-8" \
      "a UTF-16 file (${f%%:*}) given to dinornn-eval" -- "$eval_" -c "$best" --data "$tmp/${f%%:*}.txt"
    grep -qi "binary" "$tmp/err" && bad "... called binary"
    iconv -f "${f#*:}" -t UTF-8 "$tmp/${f%%:*}.txt" > "$tmp/conv.txt"
    expect 0 "" "... which, converted as it says, evaluates" -- "$eval_" -c "$best" --data "$tmp/conv.txt"
  done
  expect 1 "u16le\.txt: this looks like UTF-16 text" "a UTF-16 file given to dinornn-train" -- \
    "$bin/dinornn-train" --members 1 --data "$tmp/u16le.txt" -c "$tmp/u16run"
else
  echo "SKIP UTF-16 names files: iconv is missing"
fi

# --- eval on the validation split equals the trainer's validation loss ---
reported=$(sed 's/.*"val_loss":\([0-9.]*\).*/\1/' "$tmp/train.jsonl" | sort -g | head -1)
evaluated=$("$eval_" -c "$best" --split val --format json | sed 's/.*"nats_per_char":\([0-9.]*\).*/\1/')
[ "$reported" = "$evaluated" ] && ok "eval --split val equals the trainer's best validation loss ($evaluated)" \
  || bad "trainer reported $reported, eval says $evaluated"
"$eval_" -c "$best" --format json > "$tmp/ev.json"
grep -Eq '^\{"names":154,"chars":[0-9]+,"nats_per_char":[0-9.]+,"bits_per_char":[0-9.]+,"perplexity":[0-9.]+\}$' "$tmp/ev.json" \
  && ok "eval JSON fields" || bad "eval JSON: $(cat "$tmp/ev.json")"
train_n=$("$eval_" -c "$best" --split train --format json | sed 's/{"names":\([0-9]*\).*/\1/')
[ "$train_n" = 1382 ] && ok "the training split has 1382 names" || bad "training split has $train_n names"

# --- --novel ---
"$sample" -c "$best" --novel --count 30 --temperature 0.5 > "$tmp/novel"
copies=$(tr 'A-Z' 'a-z' < "$tmp/novel" | grep -Fxc -f <(tr 'A-Z' 'a-z' < "$data") || true)
[ "$(wc -l < "$tmp/novel")" -eq 30 ] && [ "$copies" -eq 0 ] && ok "--novel gives 30 names, none in the data" \
  || bad "--novel: $(wc -l < "$tmp/novel") names, $copies copies"

# --- names outside the vocabulary ---
printf 'Tyrannosaurus\nQ9saurus\nAllosaurus\nZ_z\n' > "$tmp/mixed.txt"
expect 0 "2 names.*skipped.*line 2" "eval skips and reports unknown symbols" -- "$eval_" -c "$best" --data "$tmp/mixed.txt"
grep -q '^2 names' "$tmp/out" && ok "eval counts only the known names" || bad "eval output: $(cat "$tmp/out")"
expect 1 "mixed\.txt:2:.*'9'" "eval --strict refuses them, naming the line" -- "$eval_" -c "$best" --data "$tmp/mixed.txt" --strict

# --- a checkpoint written in format version 1 (before LSTM and GRU) still loads ---
v1=$top_srcdir/tests/data/v1-rnn-1x4.ckpt
then_nats=$(sed 's/.*"nats_per_char":\([0-9.]*\).*/\1/' "$top_srcdir/tests/data/v1-rnn-1x4.eval.json")
now_nats=$("$eval_" -c "$v1" --data "$data" --split val --format json | sed 's/.*"nats_per_char":\([0-9.]*\).*/\1/')
awk -v a="$then_nats" -v b="$now_nats" 'BEGIN { d = a - b; exit !(b != "" && d < 1e-5 && d > -1e-5) }' \
  && ok "version-1 checkpoint evaluates as it did ($now_nats)" || bad "version-1 eval: then $then_nats, now '$now_nats'"
# Its best names, every one- and two-letter name scored (a beam search once
# gave a 32-letter name third here).
"$sample" -c "$v1" --best 5 --format json | sed 's/,"logprob".*//' > "$tmp/v1best"
sed 's/,"logprob".*//' "$top_srcdir/tests/data/v1-rnn-1x4.best.json" | cmp -s - "$tmp/v1best" \
  && ok "version-1 checkpoint gives the same best names" || bad "version-1 best names: $(cat "$tmp/v1best")"
# shellcheck disable=SC2086
brute "$v1" 5 32 "" "version-1 checkpoint" $one $two
cp "$v1" "$tmp/v1.ckpt"
expect 0 "" "training resumes from a version-1 checkpoint" -- \
  "$bin/dinornn-train" --members 1 --resume="$tmp/v1.ckpt" --data "$data" --epochs 3 --quiet --checkpoint-dir "$tmp/v1dir"
[ "$(od -An -tu1 -j8 -N1 "$tmp/v1dir/latest.ckpt" | tr -d ' ')" = 3 ] && ok "and writes version 3" \
  || bad "resumed checkpoint is not version 3"

# --- bad input ---
expect 1 "no such file|cannot open" "missing checkpoint" -- "$sample" -c "$tmp/nope.ckpt"
head -c 100 "$best" > "$tmp/cut.ckpt"
expect 1 "truncated" "truncated checkpoint" -- "$sample" -c "$tmp/cut.ckpt"
cp "$best" "$tmp/flip.ckpt"
printf '\x55' | dd of="$tmp/flip.ckpt" bs=1 seek=400 conv=notrunc 2>/dev/null
expect 1 "corrupt" "corrupted checkpoint" -- "$eval_" -c "$tmp/flip.ckpt"
expect 1 "not a dinornn checkpoint" "a names file as checkpoint" -- "$sample" -c "$data"
expect 2 "'9'.*vocabulary" "unknown character in the prefix" -- "$sample" -c "$best" --prefix ty9
expect 2 "--temperature" "negative temperature" -- "$sample" -c "$best" --temperature -1
expect 2 "--temperature" "NaN temperature" -- "$sample" -c "$best" --temperature nan
expect 2 "--top-k" "top-k 0" -- "$sample" -c "$best" --top-k 0
expect 2 "--count" "count 0" -- "$sample" -c "$best" --count 0
expect 2 "--split" "unknown split" -- "$eval_" -c "$best" --split test
expect 2 "Try .*--help" "unknown option" -- "$eval_" --bogus
expect 0 "" "sample --help" -- "$sample" --help
expect 0 "" "eval --help" -- "$eval_" --help

finish

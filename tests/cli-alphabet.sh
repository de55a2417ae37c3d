#!/usr/bin/env bash
# cli-alphabet.sh: alphabets of thousands of symbols. A list over 5,000
# distinct CJK ideographs trains, resumes byte for byte, samples, completes
# a prefix exactly and evaluates; a list with more distinct symbols than a
# 16-bit token can number is refused on the line that passes the limit.
. "${top_srcdir:-.}/tests/cli-lib.sh"
if ! command -v python3 >/dev/null 2>&1; then
  echo "SKIP: python3 is not available"
  exit 77
fi
train=$bin/dinornn-train sample=$bin/dinornn-sample eval_=$bin/dinornn-eval

# ideographs.py N OUT: 2,500 names of two or three ideographs over N distinct
# ones (U+4E00 on, then U+20000 on: code points no step of the loader changes).
cat > "$tmp/ideographs.py" <<'EOF'
import sys
n, out = int(sys.argv[1]), sys.argv[2]
def sym(i):
    return chr(0x4E00 + i if i < 0x5200 else 0x20000 + i - 0x5200)
with open(out, "w", encoding="utf-8") as f:
    if n <= 5000:
        for i in range(2500):
            name = sym(2 * i % n) + sym((2 * i + 1) % n) + (sym(7 * i % n) if i % 3 else "")
            f.write(name + "\n")
    else:  # one symbol a line
        for i in range(n):
            f.write(sym(i) + "\n")
EOF
python3 "$tmp/ideographs.py" 5000 "$tmp/cjk.txt"
cjk=(--data "$tmp/cjk.txt" --cell gru --layers 1 --hidden 8 --batch 32 --samples 2 --val-fraction 0.1)

# --- train, and resume byte for byte ---
if "$train" --members 1 "${cjk[@]}" --epochs 2 --checkpoint-dir "$tmp/a" > "$tmp/a.out" 2>&1; then
  grep -q "vocabulary 5001;" "$tmp/a.out" && ok "5,000 distinct symbols train (vocabulary 5001 with END)" \
    || bad "no 'vocabulary 5001' in: $(head -c 300 "$tmp/a.out")"
else
  bad "training on 5,000 symbols failed: $(head -c 300 "$tmp/a.out")"
fi
"$train" --members 1 "${cjk[@]}" --epochs 1 --checkpoint-dir "$tmp/b" > /dev/null 2>&1
"$train" --members 1 --resume --epochs 2 --quiet --samples 0 --checkpoint-dir "$tmp/b" > "$tmp/b.out" 2>&1
cmp -s "$tmp/a/latest.ckpt" "$tmp/b/latest.ckpt" && ok "1 + 1 resumed epochs equal 2, byte for byte" \
  || bad "the resumed run differs: $(head -c 300 "$tmp/b.out")"
ck=$tmp/a/latest.ckpt

# --- sample, complete a prefix, score, evaluate ---
first=$(python3 -c 'import sys; print(open(sys.argv[1], encoding="utf-8").read(1))' "$tmp/cjk.txt")
# symbols_each MIN: every line of $tmp/out starts with $first and has MIN symbols or more.
symbols_each() {
  python3 -c '
import sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")[:-1]
sys.exit(not lines or any(not l.startswith(sys.argv[2]) or len(l) < int(sys.argv[3]) for l in lines))
' "$tmp/out" "$first" "$1"
}
expect 0 '' "sampling 5 names" -- "$sample" -c "$ck" --count 5 --seed 3
[ "$(grep -c . "$tmp/out")" -eq 5 ] && ok "5 names drawn" || bad "sampled: $(cat "$tmp/out")"
expect 0 '' "sampling with --min-length and --top-k" -- "$sample" -c "$ck" --count 5 --min-length 3 \
  --top-k 40 --prefix "$first"
[ "$(grep -c . "$tmp/out")" -eq 5 ] && symbols_each 3 && ok "every name starts with the prefix, 3 symbols or more" \
  || bad "sampled: $(cat "$tmp/out")"
expect 0 '' "--best 3 with a prefix" -- "$sample" -c "$ck" --best 3 --prefix "$first" --format json
if [ "$(grep -c "\"name\":\"$first" "$tmp/out")" -eq 3 ] && grep -q '"exact":true' "$tmp/out"; then
  ok "--best completes the prefix exactly"
else
  bad "--best gave: $(head -c 400 "$tmp/out")"
fi
name=$(sed -n 2p "$tmp/cjk.txt")
expect 0 '' "--score" -- "$sample" -c "$ck" --score "$name"
grep -q "^$name" "$tmp/out" && ok "the name is scored" || bad "--score gave: $(cat "$tmp/out")"
expect 0 '' "evaluation" -- "$eval_" -c "$ck" --data "$tmp/cjk.txt" --format json
grep -q '"names":2500' "$tmp/out" && ok "every name evaluated" || bad "eval gave: $(cat "$tmp/out")"

# --- the limit: 65,535 symbols and END fill a 16-bit token ---
python3 "$tmp/ideographs.py" 65536 "$tmp/wide.txt"
expect 1 "wide\.txt:65536: more than 65535 distinct symbols \(the limit\) at U\+2ADFF" \
  "65,536 distinct symbols refused on the line that passes the limit" -- \
  "$train" --members 1 --data "$tmp/wide.txt" --checkpoint-dir "$tmp/w"
finish

#!/usr/bin/env bash
# cli-dinosaurus.sh: examples/dinosaurus as a learner runs it: the
# exercise's printout (a loss and seven names every 2,000 iterations, the
# names title-cased over the file's letters), the same output for the same
# seed, a names file given as argument, --help, and a usage message with
# exit status 2 on bad input. Its numbers are tests/check_dinosaurus.c's.
. "${top_srcdir:-.}/tests/cli-lib.sh"
dino=$bin/examples/dinosaurus

small=(--hidden 8 --iterations 2500)
if "$dino" "${small[@]}" "$data" >"$tmp/out" 2>"$tmp/err" &&
   [ "$(grep -c '^Iteration: [0-9]*, Loss: [0-9]*\.[0-9]*$' "$tmp/out")" -eq 3 ] &&
   grep -q '^Iteration: 2000, Loss: ' "$tmp/out" && grep -q '^Iteration: 2499, Loss: ' "$tmp/out" &&
   [ "$(grep -c '^[A-Z][a-z]*$' "$tmp/out")" -eq 21 ] &&
   head -1 "$tmp/out" | grep -q '^1536 names, 26 symbols and END; tanh RNN, 1 layer(s) of 8, Adam'; then
  ok "a loss and seven names at iterations 0, 2000 and the last, 2499"
else
  bad "the printout: $(head -c 300 "$tmp/out") $(head -c 300 "$tmp/err")"
fi

"$dino" "${small[@]}" --seed 3 "$data" >"$tmp/a" 2>&1
"$dino" "${small[@]}" --seed 3 "$data" >"$tmp/b" 2>&1
"$dino" "${small[@]}" --seed 4 "$data" >"$tmp/c" 2>&1
if cmp -s "$tmp/a" "$tmp/b" && ! cmp -s "$tmp/a" "$tmp/c"; then
  ok "the same seed, the same run; another seed, another"
else
  bad "runs with seeds 3, 3 and 4"
fi

printf 'Rex\r\n\nTrex\n  Rexy  \n' >"$tmp/rex.txt"
if "$dino" --cell lstm --layers 2 --hidden 4 --iterations 3 --batch 2 --optimizer sgd \
     --clip-mode value --lr 0.5 "$tmp/rex.txt" >"$tmp/out" 2>"$tmp/err" &&
   head -1 "$tmp/out" | grep -q '^3 names, 5 symbols and END; LSTM, 2 layer(s) of 4, SGD, lr 0.5, batch 2$' &&
   ! grep -v '^Iteration\|^$\|^3 names' "$tmp/out" | grep -q '[^ertxyERTXY]'; then
  ok "a names file as argument, every option"
else
  bad "a names file as argument: $(head -c 300 "$tmp/out") $(head -c 300 "$tmp/err")"
fi

expect 0 '' "--help" -- "$dino" --help
grep -q '^usage: dinosaurus' "$tmp/out" || bad "--help prints no usage"
expect 2 "^usage: dinosaurus" "a usage message on bad input" -- "$dino" --cell tree
expect 2 "bad or missing choice 'tree'" "an unknown cell" -- "$dino" --cell tree
expect 2 "bad or missing number '0'" "zero layers" -- "$dino" --layers 0
expect 2 "bad or missing number '1.5'" "a fractional hidden size" -- "$dino" --hidden 1.5
expect 2 "bad or missing number ''" "a missing value" -- "$dino" --iterations
expect 2 "'--bogus' is no option" "an unknown option" -- "$dino" --bogus 1
expect 2 "'a' is no option \(FILE comes last\)" "two files" -- "$dino" a b
expect 2 "No such file" "a missing file" -- "$dino" "$tmp/none.txt"
printf 'ab\nZo\xc3\xab\n' >"$tmp/bad.txt"
expect 2 "bad.txt:2: byte 0xc3 is not printable ASCII.*dinornn-train reads names in any script" \
  "a byte above 127, with its file, line and where to go instead" -- "$dino" "$tmp/bad.txt"
finish

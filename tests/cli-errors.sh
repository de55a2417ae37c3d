#!/usr/bin/env bash
# cli-errors.sh: the table of bad inputs in docs/errors.md, each a clear
# message, its documented exit status, no crash, nothing overwritten.
. "${top_srcdir:-.}/tests/cli-lib.sh"
train=$bin/dinornn-train
sample=$bin/dinornn-sample
eval_=$bin/dinornn-eval
tiny=(--layers 1 --hidden 8 --epochs 1 --samples 0 --quiet)
d=$tmp/in
mkdir -p "$d"

# A status of 128 or more would be a crash (signal): expect() checks the exact status.
: > "$d/empty.txt"
printf '\n  \n\t\n' > "$d/blank.txt"
printf 'abc\0def\n' > "$d/binary.txt"
printf 'Tyrannosaurus\nBad\xffName\n' > "$d/utf8.txt"
printf 'Aardonyx\r\nAbelisaurus\r\n' > "$d/crlf.txt"
head -c 10485760 /dev/zero | tr '\0' 'a' > "$d/long.txt"
expect 1 "empty\.txt: no names"             "empty file"          -- "$train" --members 1 --data "$d/empty.txt" "${tiny[@]}" -c "$tmp/c"
expect 1 "blank\.txt: no names"             "only blank lines"    -- "$train" --members 1 --data "$d/blank.txt" "${tiny[@]}" -c "$tmp/c"
expect 1 "is a directory"                   "a directory as data" -- "$train" --members 1 --data "$d" "${tiny[@]}" -c "$tmp/c"
expect 1 "missing\.txt.*no such file"       "missing file"        -- "$train" --members 1 --data "$d/missing.txt" "${tiny[@]}" -c "$tmp/c"
expect 1 "binary\.txt:1: NUL byte"          "binary file"         -- "$train" --members 1 --data "$d/binary.txt" "${tiny[@]}" -c "$tmp/c"
expect 1 "utf8\.txt:2: invalid UTF-8"       "invalid UTF-8"       -- "$train" --members 1 --data "$d/utf8.txt" "${tiny[@]}" -c "$tmp/c"
expect 1 "long\.txt:1: .*longer than 256"   "a 10 MB single line" -- "$train" --members 1 --data "$d/long.txt" "${tiny[@]}" -c "$tmp/c"
expect 0 ""                                 "CRLF line endings"   -- "$train" --members 1 --data "$d/crlf.txt" --val-fraction 0 "${tiny[@]}" -c "$tmp/crlf"

# --val-data without one usable name used to train on "0 validation" and
# pick best.ckpt by training loss, silently under --quiet.
printf '1234\n\n5678\n' > "$d/digits.txt"
expect 1 "digits\.txt: no usable validation names: all 2 have symbols that are not in .*dinos\.txt \(the first on line 1\)" \
  "--val-data with no usable names" -- "$train" --members 1 --data "$data" --val-data "$d/digits.txt" "${tiny[@]}" -c "$tmp/v"
[ ! -e "$tmp/v/best.ckpt" ] && ok "... and nothing trained" || bad "a checkpoint was written"
expect 1 "empty\.txt: no names" "--val-data on an empty file" -- "$train" --members 1 --data "$data" --val-data "$d/empty.txt" "${tiny[@]}" -c "$tmp/v"

# Classic Mac line ends (CR alone) are line ends, with the right line numbers;
# control characters in a name (ESC sequences) are refused.
printf 'Aardonyx\rAbelisaurus\r\rAchelousaurus\r' > "$d/cr.txt"
expect 0 "" "CR line endings (classic Mac)" -- "$train" --members 1 --data "$d/cr.txt" --val-fraction 0 "${tiny[@]}" -c "$tmp/cr"
expect 0 "" "... evaluated" -- "$eval_" -c "$tmp/cr/latest.ckpt" --data "$d/cr.txt"
grep -q "^3 names" "$tmp/out" && ok "... as 3 names" || bad "CR file read as: $(cat "$tmp/out")"
printf 'Aardonyx\rAbelisaurus\r\rBad\xffName\r' > "$d/cr-utf8.txt"
expect 1 "cr-utf8\.txt:4: invalid UTF-8" "a CR file's error names the right line" -- "$train" --members 1 --data "$d/cr-utf8.txt" "${tiny[@]}" -c "$tmp/c"
printf 'Tyrannosaurus\nEvil\033]0;pwned\007Name\n' > "$d/escape.txt"
expect 1 "escape\.txt:2: control character U\+001B \(escape\) at column 5: a name must be printable text" \
  "an escape sequence in a name" -- "$train" --members 1 --data "$d/escape.txt" "${tiny[@]}" -c "$tmp/c"
# A tab separates a name from its label: a file that mixes labeled and
# unlabeled lines is refused at the first line that breaks the rule.
printf 'Tyranno\tsaurus\nRex\n' > "$d/tab.txt"
expect 1 "tab\.txt:2:4: no label: the file is labeled \(line 1 has a tab\)" "a labeled file with a line without a label" -- \
  "$train" --members 1 --data "$d/tab.txt" "${tiny[@]}" -c "$tmp/c"
printf 'Rex\nTyranno\tsaurus\n' > "$d/tab2.txt"
expect 1 "tab2\.txt:2:8: a tab, but the file is unlabeled" "an unlabeled file with a tab" -- \
  "$train" --members 1 --data "$d/tab2.txt" "${tiny[@]}" -c "$tmp/c"
printf 'Aardonyx\n\302\233' > "$d/c1.txt"
expect 1 "c1\.txt:2: control character U\+009B" "a C1 control character (CSI)" -- "$eval_" -c "$tmp/cr/latest.ckpt" --data "$d/c1.txt"

# A model to damage, and to sample from.
"$train" --members 1 --data "$data" "${tiny[@]}" -c "$tmp/m" || bad "training the model failed"
ck=$tmp/m/latest.ckpt
expect 2 "'7'.*vocabulary"                  "a symbol unseen in training as prefix" -- "$sample" -c "$ck" --prefix "ab7"

# OMP_NUM_THREADS=70000 crashed libgomp: it gets the cap of --threads, with a
# warning, and no parallel region asks for more threads than it has work for.
expect 0 "warning: OMP_NUM_THREADS asks for 70000 threads, more than the 1024 allowed.*using 1024" \
  "OMP_NUM_THREADS=70000: dinornn-eval" -- env OMP_NUM_THREADS=70000 "$eval_" -c "$ck"
grep -q "nats/char" "$tmp/out" && ok "... which evaluates" || bad "no evaluation: $(cat "$tmp/out")"
expect 0 "warning: OMP_NUM_THREADS asks for 70000 threads" "OMP_NUM_THREADS=70000: dinornn-train" -- \
  env OMP_NUM_THREADS=70000 "$train" --members 1 --data "$data" --layers 1 --hidden 8 --epochs 1 --samples 0 -c "$tmp/omp"
grep -q "1024 threads" "$tmp/out" && ok "... which trains with 1024 threads at most" || bad "output: $(head -c 300 "$tmp/out")"
expect 0 "" "OMP_NUM_THREADS=70000: dinornn-sample" -- env OMP_NUM_THREADS=70000 "$sample" -c "$ck" -n 3
size=$(stat -c %s "$ck")
for cut in 0 5 100 287 288 $((size / 2)) $((size - 1)); do
  head -c $cut "$ck" > "$d/cut.ckpt"
  expect 1 "truncated" "checkpoint truncated at $cut of $size bytes" -- "$eval_" -c "$d/cut.ckpt"
done
cp "$ck" "$d/newer.ckpt"
printf '\x09' | dd of="$d/newer.ckpt" bs=1 seek=8 conv=notrunc 2>/dev/null
expect 1 "version 9.*newer" "a checkpoint from a newer format version" -- "$sample" -c "$d/newer.ckpt"
expect 1 "is a directory"   "a checkpoint path that is a directory"   -- "$sample" -c "$d"
# A FIFO used to block open() forever: refused at once (timeout turns a
# hang into a failure, status 124).
mkfifo "$d/fifo"
expect 1 "fifo: is a named pipe \(FIFO\), not a checkpoint file" "a FIFO as the sampler's checkpoint" -- \
  timeout 20 "$sample" -c "$d/fifo"
expect 1 "fifo: is a named pipe \(FIFO\), not a checkpoint file" "a FIFO as the evaluator's checkpoint" -- \
  timeout 20 "$eval_" -c "$d/fifo"
expect 1 "fifo: is a named pipe \(FIFO\), not a checkpoint file" "a FIFO to resume from" -- \
  timeout 20 "$train" --members 1 --resume="$d/fifo" -c "$tmp/m"
expect 1 "/dev/null: is a character device, not a checkpoint file" "a device as checkpoint" -- \
  timeout 20 "$eval_" -c /dev/null
expect 1 "fifo: is a named pipe \(FIFO\) with no writer.*start the program that writes to it first" \
  "a FIFO without a writer as names file" -- timeout 20 "$train" --members 1 --data "$d/fifo" "${tiny[@]}" -c "$tmp/c"
expect 1 "fifo: is a named pipe \(FIFO\) with no writer" "a FIFO without a writer as --val-data" -- \
  timeout 20 "$train" --members 1 --data "$data" --val-data "$d/fifo" "${tiny[@]}" -c "$tmp/c"
expect 1 "fifo: is a named pipe \(FIFO\) with no writer" "a FIFO without a writer for --novel" -- \
  timeout 20 "$sample" -c "$ck" --novel --data "$d/fifo"
# ... while a pipe that something writes to is read as before.
expect 0 "" "names from standard input (--data /dev/stdin)" -- \
  bash -c "head -n 40 \"$data\" | timeout 20 \"$train\" --data /dev/stdin --val-fraction 0 ${tiny[*]} -c \"$tmp/stdin\""
expect 1 "not a dinornn checkpoint" "a file that is not a checkpoint"  -- "$eval_" -c "$d/crlf.txt"
printf 'x' > "$d/notadir"
expect 1 "checkpoint directory.*notadir" "a checkpoint directory that is a file" -- \
  "$train" --members 1 --data "$data" "${tiny[@]}" -c "$d/notadir"
expect 1 "" "resume from a truncated checkpoint" -- "$train" --members 1 --resume="$d/cut.ckpt" --epochs 2 -c "$tmp/m"
cmp -s "$ck" "$tmp/m/latest.ckpt" && ok "... which left the checkpoint directory alone" || bad "the good checkpoint changed"

# Options out of range.
expect 2 "--layers"  "negative layers"     -- "$train" --members 1 --layers -1
expect 2 "--batch"   "negative batch"      -- "$train" --members 1 --batch -4
expect 2 "--lr"      "NaN learning rate"   -- "$train" --members 1 --lr nan
expect 2 "--hidden"  "absurd hidden size"  -- "$train" --members 1 --hidden 1000000000000
expect 2 "--dropout" "dropout 1"           -- "$train" --members 1 --dropout 1
expect 2 "--seed"    "negative seed"       -- "$train" --members 1 --seed -1
expect 2 "--epochs"  "epochs in hex"       -- "$train" --members 1 --epochs 0x10

# One strict parser for every number: plain decimal, the whole string, in
# range; the message names the option and the range. (--data names a missing
# file, so that a number wrongly accepted fails fast with status 1.)
no=(--data "$d/missing.txt")
expect 2 "^dinornn-train: --lr: '0x1p-4' is not a decimal number .*>= 1e-12 and <= 100" \
  "a hexadecimal float" -- "$train" --members 1 --lr 0x1p-4 "${no[@]}"
expect 2 "^dinornn-train: --lr: ' 0\.01' has blanks around it" "a leading blank" -- "$train" --members 1 "--lr= 0.01" "${no[@]}"
expect 2 "^dinornn-train: --epochs: '3 ' has blanks around it" "a trailing blank" -- "$train" --members 1 "--epochs=3 " "${no[@]}"
expect 2 "^dinornn-train: --lr: '' is empty"  "an empty number"    -- "$train" --members 1 --lr= "${no[@]}"
expect 2 "^dinornn-train: --clip: 'inf' is not a finite number" "an infinite bound" -- "$train" --members 1 --clip inf "${no[@]}"
expect 2 "^dinornn-train: --dropout: '0\.1x' is not a decimal number" "trailing junk" -- "$train" --members 1 --dropout 0.1x "${no[@]}"
expect 2 "^dinornn-train: --lr: 1e-13 is out of range \(must be >= 1e-12 and <= 100\)" \
  "a learning rate below the floor: the true range" -- "$train" --members 1 --lr 1e-13 "${no[@]}"
expect 2 "^dinornn-train: --lr: 1e999 is out of range" "a number that overflows a double" -- "$train" --members 1 --lr 1e999 "${no[@]}"
expect 2 "^dinornn-train: --hidden: 99999999999999999999 is out of range \(must be from 0 to 4096\)" \
  "an integer that overflows" -- "$train" --members 1 --hidden 99999999999999999999 "${no[@]}"
expect 2 "^dinornn-train: --seed: 18446744073709551616 is out of range \(must be from 0 to 18446744073709551615\)" \
  "a seed that overflows 64 bits" -- "$train" --members 1 --seed 18446744073709551616 "${no[@]}"
expect 2 "^dinornn-train: --threads: 1025 is out of range \(must be from 1 to 1024\)" "too many threads" -- "$train" --members 1 -j 1025 "${no[@]}"
expect 2 "^dinornn-sample: --temperature: '0x1' is not a decimal number" "a hexadecimal temperature" -- \
  "$sample" -c "$d/missing.ckpt" --temperature 0x1
expect 2 "^dinornn-sample: --count: ' 5' has blanks around it" "a blank before a count" -- "$sample" -c "$d/missing.ckpt" "--count= 5"
expect 2 "^dinornn-sample: --top-k: '1e3' is not a whole number" \
  "an exponent in an integer" -- "$sample" -c "$d/missing.ckpt" --top-k 1e3
expect 2 "^dinornn-sample: --max-length: 0 is out of range \(must be from 1 to 256\)" "a zero length" -- \
  "$sample" -c "$d/missing.ckpt" --max-length 0

# Memory stays proportional to the names file: 150 copies of the data (3 MB)
# must load, split and train within the memory of a run on the data alone
# plus 4 times the file (the loader used to take 11 times the file). Not
# under the sanitizers, whose shadow memory ulimit -v cannot allow for.
if [ -z "${sanitize_cflags:-}" ]; then
  for i in $(seq 150); do cat "$data"; done > "$d/big.txt"
  big_kb=$(( $(stat -c %s "$d/big.txt") / 1024 ))
  run_in() { (ulimit -v "$1"; exec "$train" --members 1 --data "$2" --cell rnn --layers 1 --hidden 1 --batch 8192 \
    --epochs 1 --samples 0 --quiet -j 1 --overwrite -c "$tmp/mem") >/dev/null 2>&1; }
  lo=1024 hi=262144
  run_in $hi "$data" || bad "the memory baseline run failed"
  while [ $((hi - lo)) -gt 1024 ]; do
    mid=$(( (lo + hi) / 2 ))
    if run_in $mid "$data"; then hi=$mid; else lo=$mid; fi
  done
  expect 0 "" "a 3 MB names file within the baseline ($hi KB) + 4 x its size" -- \
    bash -c "ulimit -v $((hi + 4 * big_kb)); exec \"$train\" --data \"$d/big.txt\" --cell rnn --layers 1 --hidden 1 --batch 8192 --epochs 1 --samples 0 --quiet -j 1 --overwrite -c \"$tmp/mem\""
fi

# A model too big for the memory is a runtime failure (1, not 2), said at
# once with the size it needs and what to lower, before any weight is set.
if [ -z "${sanitize_cflags:-}" ]; then
  expect 1 "training a lstm 2x4096 model needs [0-9.]+ GB of memory \([0-9.]+ GB of weights.*more than what ulimit -v leaves \([0-9.]+ GB\): lower --hidden, --layers, --members or --batch" \
    "a model too big for the memory" -- bash -c "ulimit -v 2000000; exec timeout 20 \"$train\" --data \"$data\" --cell lstm --layers 2 --hidden 4096 --epochs 1 --samples 0 -c \"$tmp/huge\""
  [ ! -e "$tmp/huge/latest.ckpt" ] && ok "... and no checkpoint written" || bad "$tmp/huge/latest.ckpt was written"
fi

# Disk full: a checkpoint write that fails (file-size limit: EFBIG) keeps the
# previous checkpoint, names the path and the reason, and exits 1.
"$train" --members 1 --data "$data" --layers 1 --hidden 64 --epochs 1 --samples 0 --quiet -c "$tmp/full" || bad "setup"
cp "$tmp/full/latest.ckpt" "$tmp/before.ckpt"
limit=$(( $(stat -c %s "$tmp/before.ckpt") / 1024 / 2 ))
expect 1 "cannot write checkpoint .*full/latest\.ckpt: File too large" "a failed checkpoint write (disk full)" -- \
  bash -c "ulimit -f $limit; exec \"$train\" --resume --epochs 2 --quiet -c \"$tmp/full\""
grep -q "previous checkpoint.*unchanged" "$tmp/err" && ok "... says the previous checkpoint is unchanged" || bad "message: $(cat "$tmp/err")"
cmp -s "$tmp/before.ckpt" "$tmp/full/latest.ckpt" && ok "... and it is" || bad "the previous checkpoint changed"
[ -z "$(ls "$tmp/full" | grep tmp-)" ] && ok "... with no temporary file left" || bad "temporary file left: $(ls "$tmp/full")"

# A diverging run saves nothing from the diverged state: the previous
# checkpoint stays and loads, and the message names the epoch and what to try.
head -n 10 "$data" > "$d/ten.txt"
div=(--data "$d/ten.txt" --optimizer sgd --lr 100 --weight-decay 10 --clip 0 --layers 1 --hidden 8
     --schedule constant --patience 0
     --val-fraction 0.2 --samples 0 --threads 1 --quiet)
"$train" --members 1 "${div[@]}" --epochs 100 -c "$tmp/div" --log "$tmp/div.jsonl" 2>"$tmp/div.err"
status=$?
e=$(sed -n 's/.*training diverged in epoch \([0-9]*\): the weights became NaN or infinite.*/\1/p' "$tmp/div.err")
if [ $status -eq 1 ] && [ -n "$e" ] && grep -q "lower --lr (this run: 100) or a tighter --clip (this run: 0, no clipping)" "$tmp/div.err"; then
  ok "a diverging run stops with status 1 in epoch $e, saying to lower --lr or --clip"
else
  bad "diverging run: status $status: $(cat "$tmp/div.err")"
fi
expect 0 "" "... and its latest checkpoint loads" -- "$train" --members 1 --resume --epochs 1 -c "$tmp/div"
grep -q "already reached epoch $((e - 1)) of 1" "$tmp/out" && ok "... with epoch $((e - 1)), the last sound one" \
  || bad "... $(cat "$tmp/out")"
# JSON numbers read back exactly, however large: the log's last validation
# loss (about 1e36) is dinornn-eval's figure for that checkpoint, digit for digit.
logged=$(tail -n 1 "$tmp/div.jsonl" | sed -n 's/.*"val_loss":\([^,]*\),.*/\1/p')
"$eval_" -c "$tmp/div/latest.ckpt" --split val --format json > "$tmp/div.json"
evaluated=$(sed -n 's/.*"nats_per_char":\([^,]*\),.*/\1/p' "$tmp/div.json")
[ -n "$logged" ] && [ "$logged" = "$evaluated" ] && ok "the log's validation loss $logged is exact" \
  || bad "log says $logged, dinornn-eval $evaluated"
grep -q '"perplexity":null}$' "$tmp/div.json" && ! grep -Eqi 'inf|nan' "$tmp/div.json" \
  && ok "dinornn-eval --format json writes an overflowing perplexity as null" || bad "eval JSON: $(cat "$tmp/div.json")"

# Every write is checked: a full output is status 1 naming it.
expect 1 "cannot write to standard output: No space left on device" "dinornn-sample >/dev/full" -- \
  bash -c '"$1" -c "$2" >/dev/full' _ "$sample" "$ck"
expect 1 "cannot write to standard output: No space left on device" "dinornn-sample --score >/dev/full" -- \
  bash -c '"$1" -c "$2" --score abc >/dev/full' _ "$sample" "$ck"
expect 1 "cannot write to standard output: No space left on device" "dinornn-eval >/dev/full" -- \
  bash -c '"$1" -c "$2" --data "$3" >/dev/full' _ "$eval_" "$ck" "$d/ten.txt"
expect 1 "cannot write to standard output: No space left on device" "dinornn-train >/dev/full" -- \
  bash -c '"$1" --data "$2" --members 1 --layers 1 --hidden 8 --epochs 2 --threads 1 -c "$3" >/dev/full' _ \
  "$train" "$d/ten.txt" "$tmp/full-out"
# A log that cannot grow (a full disk; here the file-size limit, above the
# checkpoint's size and at the log's): status 1, naming the log and what
# the checkpoint holds. (A device such as /dev/full is no log: refused.)
"$train" --members 1 --data "$d/ten.txt" --layers 1 --hidden 8 --epochs 1 --threads 1 --quiet \
  -c "$tmp/full-log" --log "$tmp/full-log.jsonl" || bad "setup: a log"
kb=$(( $(stat -c %s "$tmp/full-log/latest.ckpt") / 1024 + 8 ))
yes "$(head -n 1 "$tmp/full-log.jsonl")" | head -c $((kb * 1024)) > "$tmp/full.jsonl"
expect 1 "cannot write log .*full\.jsonl: File too large \(.*full-log/latest\.ckpt holds epoch 2\)" \
  "dinornn-train --log on a full disk" -- \
  bash -c 'ulimit -f $1; exec "${@:2}"' _ $kb "$train" --members 1 --resume --epochs 2 --quiet -c "$tmp/full-log" \
  --log "$tmp/full.jsonl"
expect 1 "cannot write to standard output" "dinornn-train --help >/dev/full" -- bash -c '"$1" --help >/dev/full' _ "$train"
# With SIGPIPE ignored, a closed pipe ends the sampler at once, not after a
# million names (several seconds).
start=$(date +%s%N)
status=$( (trap '' PIPE; "$sample" -c "$ck" -n 1000000 2>"$tmp/pipe.err" | head -n 1 >/dev/null; echo "${PIPESTATUS[0]}") )
ms=$((($(date +%s%N) - start) / 1000000))
[ "$status" = 1 ] && grep -q "cannot write to standard output: Broken pipe" "$tmp/pipe.err" && [ $ms -lt 1500 ] \
  && ok "dinornn-sample -n 1000000 | head -1, SIGPIPE ignored: stops after $ms ms, status 1" \
  || bad "sampler into a closed pipe: status $status after $ms ms: $(cat "$tmp/pipe.err")"

# Read-only files are respected: a checkpoint made read-only is not replaced,
# said before an epoch is spent.
"$train" --members 1 --data "$d/ten.txt" --layers 1 --hidden 8 --epochs 1 --threads 1 --quiet -c "$tmp/ro" || bad "setup"
for f in latest best; do
  cp "$tmp/ro/$f.ckpt" "$tmp/ro-$f.before"
  chmod 444 "$tmp/ro/$f.ckpt"
  expect 1 "ro/$f\.ckpt is read-only \(mode 0444\), so it is not replaced; make it writable \(chmod u\+w\)" \
    "a $f.ckpt made read-only is refused" -- "$train" --members 1 --resume --epochs 2 --threads 1 -c "$tmp/ro"
  ! grep -q "^epoch" "$tmp/out" && cmp -s "$tmp/ro/$f.ckpt" "$tmp/ro-$f.before" \
    && ok "... before training, and it is unchanged" || bad "... $(cat "$tmp/out")"
  chmod 644 "$tmp/ro/$f.ckpt"
done
# A checkpoint directory that takes no new file is found before the first
# epoch (as an unprivileged user: root may write anywhere).
as_user=()
why="a directory that is not writable needs an unprivileged user, and setpriv is missing"
if [ "$(id -u)" -eq 0 ]; then
  command -v setpriv >/dev/null && as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  # A build under /root (mode 0700) is out of that user's reach.
  if [ ${#as_user[@]} -gt 0 ] && ! "${as_user[@]}" "$train" --version >/dev/null 2>&1; then
    as_user=()
    why="user 65534 cannot run $train (a directory above it is closed to others, as /root is)"
  fi
fi
if [ "$(id -u)" -ne 0 ] || [ ${#as_user[@]} -gt 0 ]; then
  chmod 755 "$tmp" && chown -R 65534 "$tmp/ro" 2>/dev/null
  chmod 555 "$tmp/ro"
  expect 1 "cannot create files in the checkpoint directory .*ro: Permission denied" \
    "a checkpoint directory that is not writable is refused before the first epoch" -- \
    "${as_user[@]}" "$train" --members 1 --resume --epochs 2 --threads 1 -c "$tmp/ro"
  ! grep -q "^epoch" "$tmp/out" && ok "... without training" || bad "... $(cat "$tmp/out")"
  chmod 755 "$tmp/ro"
  chmod 700 "$tmp"
else
  ok "(skipped: $why)"
fi

# Temporary files left by a kill during a write are cleaned up at the next start.
: > "$tmp/full/latest.ckpt.tmp-AbC123"
expect 0 "removed 1 unfinished checkpoint file" "stale temporary files removed" -- \
  "$train" --members 1 --resume --epochs 2 -c "$tmp/full" --samples 0
[ ! -e "$tmp/full/latest.ckpt.tmp-AbC123" ] && ok "... and gone" || bad "stale file still there"


# --- messages about the run directory that misled ---
# A validation file that changed is called that, not "the training data".
head -n 40 "$data" > "$d/val-a.txt"
sed -n 41,80p "$data" > "$d/val-b.txt"
"$train" --members 1 --data "$data" --val-data "$d/val-a.txt" "${tiny[@]}" -c "$tmp/vv" || bad "setup: --val-data"
expect 1 "val-b\.txt holds other names than the validation file .*vv/latest\.ckpt was validated on; use --force to go on with these names anyway" \
  "resuming with another validation file names it as such" -- \
  "$train" --members 1 --resume --val-data "$d/val-b.txt" --epochs 2 -c "$tmp/vv"
grep -q "trained on" "$tmp/err" && bad "... but calls it the training data" || ok "... not the training data"
# Out of file descriptors is no matter of permissions: the advice says what
# helps (the process's limit), not "make it writable" nor another directory.
# The program itself, not libtool's wrapper script, which needs descriptors;
# with a log, one more descriptor open while the directory is checked.
real=$bin/.libs/dinornn-train
[ -x "$real" ] || real=$train
if [ -z "${sanitize_cflags:-}" ]; then
  n=3
  while [ $n -le 24 ]; do
    rm -rf "$tmp/fd" "$tmp/fd.jsonl"
    (ulimit -n $n; LD_LIBRARY_PATH=$bin/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} exec "$real" --members 1 \
      --data "$d/ten.txt" "${tiny[@]}" --threads 1 -c "$tmp/fd" --log "$tmp/fd.jsonl") >/dev/null 2>"$tmp/fd.err" || true
    grep -Eq "(checkpoint directory|lock file).*Too many open files" "$tmp/fd.err" && break
    n=$((n + 1))
  done
  if [ $n -le 24 ]; then
    grep -q "this process has as many files open as its limit allows (ulimit -n): raise the limit" "$tmp/fd.err" \
      && ! grep -Eq "writable|another --checkpoint-dir" "$tmp/fd.err" \
      && ok "out of file descriptors (ulimit -n $n): the advice is to raise the limit" || bad "message: $(cat "$tmp/fd.err")"
    [ ! -e "$tmp/fd" ] && ok "... and the failed start leaves no directory" || bad "left: $(ls -A "$tmp/fd")"
  else
    bad "no file descriptor limit from 3 to 24 made the checkpoint directory fail: $(cat "$tmp/fd.err")"
  fi
fi

finish

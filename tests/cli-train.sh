#!/usr/bin/env bash
# cli-train.sh: dinornn-train as a user runs it: options, learning, identical
# files for any thread count, exact resume, SIGINT and kill -9.
. "${top_srcdir:-.}/tests/cli-lib.sh"
train=$bin/dinornn-train
tiny=(--data "$data" --layers 1 --hidden 16 --batch 16 --samples 0 --quiet)

# --- options ---
expect 0 '' "--help exits 0" -- "$train" --members 1 --help
for opt in --data --layers --hidden --batch --epochs --lr --optimizer --clip --clip-mode --seed \
           --val-fraction --val-data --checkpoint-dir --resume --overwrite --samples --log --quiet --version; do
  grep -q -- "$opt" "$tmp/out" || bad "--help does not mention $opt"
done
expect 0 '' "--version exits 0" -- "$train" --members 1 --version
grep -q "dinornn" "$tmp/out" && ok "--version names the package" || bad "--version output: $(cat "$tmp/out")"
expect 2 "--layers: 17 is out of range \(must be from 0 to 16\)" "17 layers refused" -- "$train" --members 1 --layers 17
expect 2 "--batch" "negative batch refused" -- "$train" --members 1 --batch -1
expect 2 "--lr" "NaN learning rate refused" -- "$train" --members 1 --lr nan
expect 2 "--hidden: 100000 is out of range \(must be from 0 to 4096\)" "absurd hidden size refused" -- "$train" --members 1 --hidden 100000
expect 2 "--optimizer.*sgd, adagrad, adam" "unknown optimizer refused" -- "$train" --members 1 --optimizer rmsprop
expect 2 "--val-fraction" "validation fraction 1 refused" -- "$train" --members 1 --val-fraction 1
expect 2 "Try .*--help" "unknown option suggests --help" -- "$train" --members 1 --no-such-option
expect 1 "missing\.txt" "missing data file named" -- "$train" --members 1 --data "$tmp/missing.txt" --checkpoint-dir "$tmp/x"
expect 0 "warning: --momentum applies to --optimizer sgd only; ignored with adam" \
  "--momentum with adam warned about" -- "$train" --members 1 --data "$data" --layers 1 --hidden 8 --epochs 1 \
  --samples 0 --momentum 0.9 --checkpoint-dir "$tmp/mom"
printf '\n\n' > "$tmp/blank.txt"
expect 1 "blank\.txt.*no names" "file without names refused" -- "$train" --members 1 --data "$tmp/blank.txt" --checkpoint-dir "$tmp/x"

# --- learning: a short fixed run must reach a validation loss that a model
# without working BPTT cannot (a bigram model scores about 2.3 nats/char,
# uniform guessing 3.3; this run reaches about 1.80).
"$train" --members 1 --data "$data" --epochs 3 --samples 3 --checkpoint-dir "$tmp/learn" --log "$tmp/learn.jsonl" > "$tmp/learn.out"
val=$(sed -n 's/.*"val_loss":\([0-9.]*\).*/\1/p' "$tmp/learn.jsonl" | tail -n 1)
if awk -v v="$val" 'BEGIN { exit !(v > 0 && v < 1.95) }'; then
  ok "validation loss after 3 epochs is $val < 1.95"
else
  bad "validation loss after 3 epochs is '$val', not below 1.95"
fi
[ "$(wc -l < "$tmp/learn.jsonl")" -eq 3 ] && ok "one JSON line per epoch" || bad "log has $(wc -l < "$tmp/learn.jsonl") lines"
grep -Eq '^epoch 3/3  train [0-9.]+  val [0-9.]+' "$tmp/learn.out" && ok "epoch line printed" || bad "no epoch line: $(head -3 "$tmp/learn.out")"
grep -Eq 'samples: .*\[[0-9] of 3 novel\]' "$tmp/learn.out" && ok "samples printed with novelty count" || bad "no samples line"
[ -s "$tmp/learn/latest.ckpt" ] && [ -s "$tmp/learn/best.ckpt" ] && ok "latest and best checkpoints written" || bad "checkpoints missing"

# --- the same seed gives byte-identical checkpoints for 1, 2 and 8 threads ---
for n in 1 2 8; do
  OMP_NUM_THREADS=$n "$train" --members 1 "${tiny[@]}" --layers 2 --epochs 2 --checkpoint-dir "$tmp/t$n" || bad "training with $n threads failed"
done
cmp -s "$tmp/t1/latest.ckpt" "$tmp/t2/latest.ckpt" && cmp -s "$tmp/t1/latest.ckpt" "$tmp/t8/latest.ckpt" \
  && ok "identical checkpoints with 1, 2 and 8 threads" || bad "checkpoints differ between thread counts"
"$train" --members 1 "${tiny[@]}" --layers 2 --epochs 2 --threads 3 --checkpoint-dir "$tmp/t3"
cmp -s "$tmp/t1/latest.ckpt" "$tmp/t3/latest.ckpt" && ok "--threads 3 gives the same file" || bad "--threads 3 differs"

# --- resume: 2 epochs, then --resume up to 4, equals 4 in one run ---
"$train" --members 1 "${tiny[@]}" --epochs 4 --checkpoint-dir "$tmp/r4"
"$train" --members 1 "${tiny[@]}" --epochs 2 --checkpoint-dir "$tmp/r22"
"$train" --members 1 --resume --epochs 4 --quiet --samples 0 --checkpoint-dir "$tmp/r22"
cmp -s "$tmp/r4/latest.ckpt" "$tmp/r22/latest.ckpt" && ok "2 + 2 resumed epochs equal 4, byte for byte" \
  || bad "resumed run differs from the uninterrupted one"
# A run started with a relative --data resumes from another directory.
mkdir -p "$tmp/cwd"
cp "$data" "$tmp/cwd/names.txt"
(cd "$tmp/cwd" && "$train" --members 1 --data names.txt --layers 1 --hidden 8 --epochs 1 --samples 0 --quiet \
   --checkpoint-dir "$tmp/rel")
expect 0 "" "a relative --data path resumes from another directory" -- \
  "$train" --members 1 --resume --epochs 2 --quiet --checkpoint-dir "$tmp/rel"
expect 2 "--hidden 64 contradicts the checkpoint .*r22/latest\.ckpt, trained with --hidden 16; resume without --hidden" \
  "resume refuses a contradicting --hidden, naming both values" -- \
  "$train" --members 1 --resume --hidden 64 --epochs 5 --checkpoint-dir "$tmp/r22"
expect 2 "--val-data contradicts the checkpoint .*r22/latest\.ckpt, which validates on the part of its training names that --val-fraction 0\.1 held out" \
  "resume refuses a --val-data the run never had, saying what it had" -- \
  "$train" --members 1 --resume --val-data "$data" --epochs 5 --checkpoint-dir "$tmp/r22"
expect 0 "warning: --val-fraction does not apply with --val-data" "--val-fraction beside --val-data is said to be ignored" -- \
  "$train" --members 1 --data "$data" --layers 1 --hidden 8 --samples 0 --val-data "$data" --val-fraction 0.3 \
  --epochs 1 --checkpoint-dir "$tmp/vfvd"
# No --data, and no default names file where the program looks: it says
# which file that is and what to give (it named a path nobody gave).
mkdir "$tmp/nodata"
if (cd "$tmp/nodata" && "$train" --members 1 --epochs 1 --hidden 8 --samples 0 --quiet) 2>"$tmp/nodata.err"; then
  echo "SKIP the default names file is installed: nothing missing to report"
else
  grep -q "dinos\.txt: no such file (the default names file, not installed here: give --data FILE)" "$tmp/nodata.err" \
    && ok "a missing default names file is named as the default, with what to give" || bad "no default data: $(cat "$tmp/nodata.err")"
fi
head -n 700 "$data" > "$tmp/part.txt"
expect 1 "part\.txt.*other names.*--force" "resume refuses other data" -- \
  "$train" --members 1 --resume --data "$tmp/part.txt" --epochs 5 --checkpoint-dir "$tmp/r22"
expect 1 "nothing to resume" "resume without a checkpoint explains" -- \
  "$train" --members 1 --resume --checkpoint-dir "$tmp/none"
expect 0 "" "resume at the target epoch has nothing to do" -- \
  "$train" --members 1 --resume --epochs 4 --checkpoint-dir "$tmp/r22"

# --- resume keeps telling the truth: the checkpoint records the data it was
# last trained on ---
head -n 300 "$data" > "$tmp/A.txt"
sed -n 301,600p "$data" > "$tmp/B.txt"
small=(--layers 1 --hidden 8 --samples 0 --threads 1)
"$train" --members 1 --data "$tmp/A.txt" "${small[@]}" --epochs 1 --quiet --checkpoint-dir "$tmp/sw"
expect 0 "" "--resume --force onto other data" -- \
  "$train" --members 1 --resume --force --data "$tmp/B.txt" --epochs 2 --checkpoint-dir "$tmp/sw"
head -n 1 "$tmp/out" | grep -q "^switching data (--force): training on .*B\.txt, not on .*A\.txt as before; the best loss so far no longer counts" \
  && ok "... says so on the first line" || bad "... first line: $(head -n 1 "$tmp/out")"
grep -q "^epoch 2/2 .*\*best" "$tmp/out" && ok "... and the best starts afresh on the new data" \
  || bad "... epoch 2 is not the new best: $(cat "$tmp/out")"
expect 0 "" "the next plain --resume" -- "$train" --members 1 --resume --epochs 3 --checkpoint-dir "$tmp/sw"
head -n 1 "$tmp/out" | grep -q "B\.txt: 270 training names" && ! grep -q "switching" "$tmp/out" \
  && ok "... trains on B.txt, recorded with its fingerprint" || bad "... $(head -n 2 "$tmp/out")"
# A data file that moved: the message says where the path came from and what
# to do; once given, the new place is recorded for every later use.
cp "$tmp/A.txt" "$tmp/M.txt"
"$train" --members 1 --data "$tmp/M.txt" "${small[@]}" --epochs 1 --quiet --checkpoint-dir "$tmp/mv"
mv "$tmp/M.txt" "$tmp/M2.txt"
expect 1 "M\.txt: no such file \(the training data recorded in .*mv/latest\.ckpt\): if the file has moved, give its new location with --data FILE" \
  "a recorded data path that no longer exists" -- "$train" --members 1 --resume --epochs 2 --checkpoint-dir "$tmp/mv"
expect 1 "M\.txt: no such file \(the training data recorded in .*mv/best\.ckpt\): if the file has moved, give its new location with --data FILE" \
  "... the same for dinornn-eval" -- "$bin/dinornn-eval" -c "$tmp/mv/best.ckpt"
expect 0 "" "--resume --data at the new place" -- \
  "$train" --members 1 --resume --data "$tmp/M2.txt" --epochs 1 --checkpoint-dir "$tmp/mv"
grep -q "the data has moved to .*M2\.txt" "$tmp/out" && ok "... says the data has moved" || bad "... $(cat "$tmp/out")"
expect 0 "" "... after which dinornn-eval finds it through best.ckpt" -- "$bin/dinornn-eval" -c "$tmp/mv/best.ckpt"
expect 0 "" "... and a plain --resume through latest.ckpt" -- "$train" --members 1 --resume --epochs 2 --checkpoint-dir "$tmp/mv"
# The closing line names best.ckpt only when it is there.
grep -q "saved in .*mv/best\.ckpt" "$tmp/out" && ok "the closing line names best.ckpt" || bad "closing line: $(tail -n 1 "$tmp/out")"
expect 0 "" "resuming another run's checkpoint into an empty directory, nothing to do" -- \
  "$train" --members 1 --resume="$tmp/mv/latest.ckpt" --epochs 1 --checkpoint-dir "$tmp/nobest"
tail -n 1 "$tmp/out" | grep -q "^best validation loss .* not saved in .*nobest; total" && ! grep -q "best\.ckpt" "$tmp/out" \
  && ok "... the closing line does not name a best.ckpt that is not there" || bad "closing line: $(tail -n 1 "$tmp/out")"

# signal_run SIG DIR ERRFILE ARGS...: a trainer into DIR (stderr to
# ERRFILE), sent SIG a little after its first checkpoint; sets status.
signal_run() {
  local sig=$1 dir=$2 err=$3 pid
  shift 3
  "$train" "$@" --checkpoint-dir "$dir" 2>"$err" &
  pid=$!
  for _ in $(seq 200); do [ -s "$dir/latest.ckpt" ] && break; sleep 0.05; done
  sleep 0.3
  kill -"$sig" $pid
  status=0
  wait $pid || status=$?
}

# --- SIGINT: finish the mini-batch, checkpoint, say how to resume, exit 130;
# then --resume completes the interrupted epoch and one more ---
signal_run INT "$tmp/int" "$tmp/int.err" --members 1 "${tiny[@]}" --hidden 64 --epochs 100000 --patience 0 --log "$tmp/int.jsonl"
[ $status -eq 130 ] && ok "SIGINT exits with 130" || bad "SIGINT exit status $status"
grep -q -- "--resume" "$tmp/int.err" && ok "SIGINT message says how to resume" || bad "no resume hint: $(cat "$tmp/int.err")"
done_epochs=$(wc -l < "$tmp/int.jsonl")
expect 0 "" "training resumes after SIGINT" -- \
  "$train" --members 1 --resume --epochs $((done_epochs + 2)) --checkpoint-dir "$tmp/int" --log "$tmp/int.jsonl"
[ "$(wc -l < "$tmp/int.jsonl")" -eq $((done_epochs + 2)) ] && ok "the resumed run finished its epochs" \
  || bad "log has $(wc -l < "$tmp/int.jsonl") epochs, expected $((done_epochs + 2))"
"$train" --members 1 "${tiny[@]}" --hidden 64 --epochs 100000 --patience 0 --checkpoint-dir "$tmp/int" --resume 2>/dev/null &
pid=$!
sleep 0.5
kill -TERM $pid
status=0
wait $pid || status=$?
[ $status -eq 143 ] && ok "SIGTERM exits with 143" || bad "SIGTERM exit status $status"
"$train" --members 1 --resume --quiet --epochs 1 --checkpoint-dir "$tmp/int" && ok "checkpoint after SIGTERM loads" || bad "checkpoint after SIGTERM unreadable"

# --- SIGHUP (the terminal or SSH session closed) is SIGTERM's case: the
# mini-batch finished, a checkpoint, exit 129; the checkpoint resumes ---
signal_run HUP "$tmp/hup" "$tmp/hup.err" --members 1 "${tiny[@]}" --hidden 64 --epochs 100000 --patience 0
[ $status -eq 129 ] && ok "SIGHUP exits with 129" || bad "SIGHUP exit status $status"
grep -q "interrupted by SIGHUP during epoch [0-9]* .*checkpoint written to .*hup/latest\.ckpt" "$tmp/hup.err" \
  && grep -q "continue with: .*--resume" "$tmp/hup.err" && ok "... saying so, and how to go on" || bad "SIGHUP message: $(cat "$tmp/hup.err")"
e=$(sed -n 's/.*during epoch \([0-9]*\) .*/\1/p' "$tmp/hup.err")
expect 0 "" "the checkpoint written on SIGHUP resumes (to finish epoch $e)" -- \
  "$train" --members 1 --resume --epochs "${e:-1}" --quiet --checkpoint-dir "$tmp/hup"
# Under nohup (SIGHUP ignored on entry) the run outlives its terminal.
bash -c 'trap "" HUP; exec "$@"' nohup "$train" --members 1 "${tiny[@]}" --hidden 64 --epochs 100000 --patience 0 \
  --quiet --checkpoint-dir "$tmp/nohup" 2>"$tmp/nohup.err" &
pid=$!
for _ in $(seq 200); do [ -s "$tmp/nohup/latest.ckpt" ] && break; sleep 0.05; done
kill -HUP $pid
sleep 0.5
kill -0 $pid 2>/dev/null && ok "under nohup, SIGHUP leaves the run training" || bad "under nohup, SIGHUP stopped the run"
kill -TERM $pid 2>/dev/null
status=0
wait $pid || status=$?
[ $status -eq 143 ] && ok "... which SIGTERM then stops (143)" || bad "... SIGTERM after SIGHUP: status $status"

# --- the "continue with" hint is a command to paste, even for a directory
# whose name needs quoting ---
odd="$tmp/it's a \"run\" \$HOME"
"$train" --members 1 "${tiny[@]}" --hidden 64 --threads 1 --epochs 100000 --checkpoint-dir "$odd" 2> "$tmp/odd.err" &
pid=$!
for _ in $(seq 200); do [ -s "$odd/latest.ckpt" ] && break; sleep 0.05; done
kill -INT $pid
wait $pid
hint=$(sed -n 's/^dinornn-train: continue with: //p' "$tmp/odd.err")
set --
eval "set -- $hint" 2>/dev/null || true # an unquoted quote is a syntax error
[ $# -eq 5 ] && [ "$1" = dinornn-train ] && [ "$2" = --resume ] && [ "$3" = "--checkpoint-dir=$odd" ] && [ "$4 $5" = "--epochs 100000" ] \
  && ok "the hint quotes what needs quoting: $hint" || bad "hint: $hint"
e=$(sed -n 's/.*during epoch \([0-9]*\) .*/\1/p' "$tmp/odd.err")
expect 0 "" "... and, pasted into a shell (to finish epoch $e), resumes the run" -- \
  env PATH="$(cd "$bin" && pwd):$PATH" bash -c "$hint --epochs $e"

# --- the progress line: escape sequences only for a terminal that knows them ---
# On a pseudo-terminal (script), TERM=xterm gets the line redrawn in place;
# TERM=dumb, no TERM, or standard error not a terminal get no escape
# sequence at all (and nothing else on stdout changes).
if command -v script >/dev/null && script -qec true /dev/null >/dev/null 2>&1; then
  # progress_run TERM TYPESCRIPT [REDIRECTIONS]: two epochs on a terminal.
  progress_run() {
    rm -rf "$tmp/pt"
    TERM=$1 script -qec "$(printf '%q ' "$train" --members 1 --data "$data" --layers 1 --hidden 64 --batch 16 \
      --samples 0 --epochs 2 --patience 0 --threads 1 -c "$tmp/pt") ${3-}" "$2" >/dev/null 2>&1 ||
      bad "the run on a terminal (TERM=$1) failed: $(tail -c 300 "$2")"
  }
  progress_run xterm "$tmp/ts.xterm"
  grep -q $'\033\\[K' "$tmp/ts.xterm" && ok "TERM=xterm on a terminal: the progress line is drawn in place" \
    || bad "no progress line on an xterm: $(head -c 300 "$tmp/ts.xterm")"
  progress_run dumb "$tmp/ts.dumb"
  ! grep -q $'\033' "$tmp/ts.dumb" && ok "TERM=dumb: no escape sequence" || bad "TERM=dumb got escape sequences"
  rm -rf "$tmp/pt"
  env -u TERM script -qec "$(printf '%q ' "$train" --members 1 --data "$data" --layers 1 --hidden 64 --batch 16 \
    --samples 0 --epochs 2 --patience 0 --threads 1 -c "$tmp/pt")" "$tmp/ts.none" >/dev/null 2>&1
  ! grep -q $'\033' "$tmp/ts.none" && ok "no TERM: no escape sequence" || bad "no TERM: escape sequences"
  progress_run xterm "$tmp/ts.file" "2>$(printf '%q' "$tmp/err.file") >$(printf '%q' "$tmp/out.file")"
  ! grep -q $'\033' "$tmp/err.file" "$tmp/out.file" && ok "standard error and output in files: no escape sequence" \
    || bad "escape sequences in files"
else
  echo "SKIP the progress line on a terminal: script(1) is missing"
fi

# --- without validation names, an epoch line says nothing of them (was
# "val nan"), and the first line says what the best is judged on ---
expect 0 "" "--val-fraction 0 trains" -- "$train" --members 1 --data "$data" --layers 1 --hidden 8 --epochs 2 \
  --val-fraction 0 --samples 0 -c "$tmp/noval"
! grep -qi "nan" "$tmp/out" && grep -q "^epoch 2/2  train [0-9.]* \(\*best  \)\? *[0-9]* chars/s" "$tmp/out" \
  && grep -q "no validation names (best by the training loss)" "$tmp/out" \
  && ok "... epoch lines without 'val nan', the first line saying why" || bad "output: $(cat "$tmp/out")"

# --- kill -9 at random moments: the checkpoint on disk always loads ---
# A first epoch runs to its end, so that every kill finds a checkpoint to
# keep intact however slow the build (the sanitizers) or busy the machine.
"$train" --members 1 "${tiny[@]}" --hidden 8 --epochs 1 --quiet --checkpoint-dir "$tmp/k9" || bad "the first epoch failed"
kills=0
for i in $(seq 12); do
  "$train" --members 1 "${tiny[@]}" --hidden 8 --epochs 100000 --patience 0 --checkpoint-dir "$tmp/k9" --resume &
  pid=$!
  sleep "0.$((RANDOM % 4 + 1))$((RANDOM % 10))"
  kill -KILL $pid 2>/dev/null && kills=$((kills + 1))
  wait $pid 2>/dev/null || true
  if [ -s "$tmp/k9/latest.ckpt" ] && ! "$train" --members 1 --resume --quiet --epochs 1 --checkpoint-dir "$tmp/k9"; then
    bad "checkpoint unreadable after kill -9 number $i"
  fi
done
[ $kills -gt 0 ] && [ -s "$tmp/k9/latest.ckpt" ] && ok "checkpoint loads after each of $kills kill -9s" || bad "kill -9 test did not run"

# --- the plateau schedule and early stopping ---
# The learning rate of each logged epoch follows the rule of docs/model.md:
# after an epoch that is no new best, times --lr-decay once --lr-patience
# epochs have passed since the later of the best epoch and the last decay.
plat=(--data "$data" --layers 1 --hidden 16 --batch 8 --samples 0 --lr 0.1 --lr-patience 1 --lr-decay 0.25)
"$train" --members 1 "${plat[@]}" --patience 0 --epochs 12 --checkpoint-dir "$tmp/pl12" --log "$tmp/pl12.jsonl" > "$tmp/pl12.out"
if python3 - "$tmp/pl12.jsonl" > "$tmp/pl12.check" 2>&1 <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
lr, scale, best, best_epoch, last_decay, decays, first = 0.1, 1.0, float("inf"), -1, -1, 0, None
for r in rows:
    assert abs(r["lr"] - lr * scale) <= 1e-12 * lr, "epoch %d: lr %r, expected %r" % (r["epoch"], r["lr"], lr * scale)
    if r["val_loss"] < best:
        best, best_epoch = r["val_loss"], r["epoch"]
    elif r["epoch"] - max(best_epoch, last_decay) >= 1:
        scale, last_decay, decays = scale * 0.25, r["epoch"], decays + 1
        first = first or r["epoch"]
# A decay before the last epoch, so that the resume below, split there,
# carries the schedule's state.
assert len(rows) == 12 and first is not None and first < 12, "decays %d, the first at %s" % (decays, first)
print(decays, first)
PY
then
  read -r decays first < "$tmp/pl12.check"
  ok "the plateau schedule lowered the rate $decays times (first after epoch $first), as the rule says"
  grep -q "(learning rate lowered)" "$tmp/pl12.out" && ok "... and the epoch line says so" || bad "no '(learning rate lowered)' in the output"
  # Its state goes through a checkpoint: split right after the first decay.
  "$train" --members 1 "${plat[@]}" --patience 0 --epochs "$first" --quiet --checkpoint-dir "$tmp/plr"
  "$train" --members 1 --resume --epochs 12 --quiet --checkpoint-dir "$tmp/plr"
  cmp -s "$tmp/pl12/latest.ckpt" "$tmp/plr/latest.ckpt" \
    && ok "plateau: $first + $((12 - first)) resumed epochs equal 12, byte for byte" \
    || bad "plateau: the resumed run differs from the uninterrupted one"
else
  bad "plateau schedule: $(cat "$tmp/pl12.check")"
fi
# Early stopping: a run with --patience 1 stops after its first epoch without
# a new best, says so, and best.ckpt holds the best epoch.
"$train" --members 1 "${plat[@]}" --patience 1 --epochs 200 --checkpoint-dir "$tmp/es" --log "$tmp/es.jsonl" > "$tmp/es.out"
n=$(wc -l < "$tmp/es.jsonl")
best_epoch=$(python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; print(min(r, key=lambda x: x["val_loss"])["epoch"])' "$tmp/es.jsonl")
if [ "$n" -lt 200 ] && [ "$best_epoch" -eq $((n - 1)) ] && grep -q "stopping early: no new best validation loss in 1 epochs" "$tmp/es.out"; then
  ok "--patience 1 stopped at epoch $n, one after the best ($best_epoch)"
else
  bad "early stopping: $n epochs, best at $best_epoch: $(tail -2 "$tmp/es.out")"
fi
[ "$(python3 "$top_srcdir/tests/ckpt_reader.py" "$tmp/es/best.ckpt" | sed -n 's/.*"epoch": \([0-9]*\),.*/\1/p')" = "$best_epoch" ] \
  && ok "... best.ckpt holds epoch $best_epoch" || bad "best.ckpt is not the best epoch"
expect 0 "" "a resume of the stopped run" -- "$train" --members 1 --resume --epochs 200 --checkpoint-dir "$tmp/es" --log "$tmp/es.jsonl"
grep -q "stopped early at epoch $n" "$tmp/out" && [ "$(wc -l < "$tmp/es.jsonl")" -eq "$n" ] \
  && ok "... has nothing to do, and says so" || bad "... $(cat "$tmp/out")"
"$train" --members 1 --resume --patience 0 --epochs $((n + 2)) --quiet --checkpoint-dir "$tmp/es" --log "$tmp/es.jsonl"
[ "$(wc -l < "$tmp/es.jsonl")" -eq $((n + 2)) ] && ok "... and --patience 0 trains on" \
  || bad "--resume --patience 0 did not train 2 more epochs"
# The model's size from the data: 2 layers of 128 for data/dinos.txt.
"$train" --members 1 --data "$data" --epochs 1 --samples 0 --checkpoint-dir "$tmp/auto" > "$tmp/auto.out"
grep -q "gru 2x128 (chosen for the data)" "$tmp/auto.out" && ok "the size chosen from the data is announced" \
  || bad "first line: $(head -1 "$tmp/auto.out")"

# --- a mixture of models ---
# The default for data/dinos.txt (17,857 training characters): five members.
"$train" --data "$data" --epochs 1 --samples 0 --checkpoint-dir "$tmp/auto5" > "$tmp/auto5.out"
grep -q "a mixture of 5 models, each gru 2x128 (chosen for the data)" "$tmp/auto5.out" \
  && ok "data/dinos.txt gets a mixture of 5 by default, announced" || bad "first line: $(head -1 "$tmp/auto5.out")"
mix=(--data "$data" --layers 1 --hidden 16 --batch 16 --members 3 --epochs 2 --patience 0)
OMP_NUM_THREADS=1 "$train" "${mix[@]}" --samples 1 -c "$tmp/mx1" --log "$tmp/mx1.jsonl" > "$tmp/mx1.out"
OMP_NUM_THREADS=2 "$train" "${mix[@]}" --samples 0 --quiet -c "$tmp/mx2"
cmp -s "$tmp/mx1/latest.ckpt" "$tmp/mx2/latest.ckpt" && ok "a mixture: identical checkpoints with 1 and 2 threads" \
  || bad "a mixture: checkpoints differ between thread counts"
[ "$(grep -c '^member [123]/3  epoch' "$tmp/mx1.out")" -eq 6 ] && grep -q "^member 3/3 done: .*the mixture of 3: " "$tmp/mx1.out" \
  && grep -q "^the mixture of 3 models: validation loss" "$tmp/mx1.out" \
  && ok "each member trains its 2 epochs, and the mixture's loss is reported" || bad "mixture output: $(tail -3 "$tmp/mx1.out")"
expect 0 "" "dinornn-eval on the mixture" -- "$bin/dinornn-eval" -c "$tmp/mx1/latest.ckpt" --format json
if python3 - "$tmp/mx1.jsonl" "$tmp/out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
mixed = [r for r in rows if "mixture_loss" in r]
assert [r["mixture"] for r in mixed] == [1, 2, 3], mixed
single = min(r["val_loss"] for r in rows if r.get("member") == 1 and "val_loss" in r)
assert mixed[0]["mixture_loss"] == single, (mixed[0], single)
ev = json.load(open(sys.argv[2]))["nats_per_char"]
assert abs(ev - mixed[-1]["mixture_loss"]) <= 1e-12 * ev, (ev, mixed[-1])
PY
then ok "... which scores it as the trainer did (the mixture of 3)"; else bad "mixture: log and dinornn-eval disagree"; fi
expect 0 "" "dinornn-sample --best 3 on the mixture" -- "$bin/dinornn-sample" -c "$tmp/mx1/best.ckpt" --best 3
[ "$(wc -l < "$tmp/out")" -eq 3 ] && ok "... gives 3 names" || bad "... gave: $(cat "$tmp/out")"
# An interrupted mixture says which member it was training, as does the resume.
"$train" "${mix[@]}" --members 2 --epochs 1 --samples 0 --quiet -c "$tmp/mxi" || bad "the mixture to interrupt failed"
"$train" --resume --epochs 100000 -c "$tmp/mxi" >"$tmp/mxi.out" 2>"$tmp/mxi.err" &
pid=$!
for _ in $(seq 200); do grep -q "^resuming" "$tmp/mxi.out" 2>/dev/null && break; sleep 0.05; done
sleep 0.3
kill -INT $pid
wait $pid
grep -q "^resuming from .*mxi/latest.ckpt at member 2/2, epoch 1" "$tmp/mxi.out" \
  && grep -q "interrupted by SIGINT during member 2/2, epoch [0-9]* (" "$tmp/mxi.err" \
  && ok "an interrupted mixture names the member: $(grep -o 'during member [^(]*' "$tmp/mxi.err")" \
  || bad "mixture interrupted: $(cat "$tmp/mxi.out" "$tmp/mxi.err")"
expect 2 "--members" "17 members refused" -- "$train" --members 17

finish

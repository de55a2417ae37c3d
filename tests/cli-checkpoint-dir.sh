#!/usr/bin/env bash
# cli-checkpoint-dir.sh: a checkpoint directory belongs to one run. A new run
# does not replace another's checkpoints without --overwrite; two trainers
# never share a directory (a lock that kill -9 does not leave behind); the
# readers take no lock; missing parents are created.
. "${top_srcdir:-.}/tests/cli-lib.sh"
train=$(cd "$bin" && pwd)/dinornn-train
sample=$bin/dinornn-sample
eval_=$bin/dinornn-eval
# One thread: on a busy machine OpenMP's waiting threads slow tiny runs down.
# No early stop: a trainer meant to run until killed must not end in a
# second or two on a quiet machine (--patience 0).
head -n 300 "$data" > "$tmp/names.txt"
run=(--data "$tmp/names.txt" --layers 1 --hidden 8 --samples 0 --threads 1 --patience 0)
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# wait_for COMMAND...: polls for up to 5 s until the command succeeds.
wait_for() {
  for _ in $(seq 250); do "$@" && return 0; sleep 0.02; done
  return 1
}
holds_pid() { [ "$(cat "$1/train.lock" 2>/dev/null)" = "$2" ] && [ -s "$1/latest.ckpt" ]; }

# --- a new run in a used directory is refused; nothing changes without --overwrite ---
u=$tmp/used
"$train" --members 1 "${run[@]}" --epochs 2 --quiet -c "$u" || bad "setup: training into $u failed"
cp "$u/latest.ckpt" "$tmp/latest.before"
cp "$u/best.ckpt" "$tmp/best.before"
expect 2 "$u already holds the checkpoints of another run \(latest\.ckpt and best\.ckpt\).*--resume.*another --checkpoint-dir.*--overwrite" \
  "a new run in a used directory is refused, naming the three ways on" -- \
  "$train" --members 1 "${run[@]}" --hidden 4 --epochs 1 -c "$u"
cmp -s "$u/latest.ckpt" "$tmp/latest.before" && cmp -s "$u/best.ckpt" "$tmp/best.before" \
  && ok "... both checkpoints byte-identical afterwards" || bad "a refused run changed the checkpoints"
"$train" --members 1 "${run[@]}" --epochs 1 --quiet -c "$tmp/other" || bad "setup: training into $tmp/other failed"
expect 2 "$u holds the checkpoints of another run.*--overwrite" \
  "resuming another directory's checkpoint into a used one is refused" -- \
  "$train" --members 1 --resume="$tmp/other/latest.ckpt" --epochs 2 -c "$u"
expect 2 "--overwrite contradicts --resume" "--overwrite with --resume of the same run is refused" -- \
  "$train" --members 1 --resume --overwrite --epochs 3 -c "$u"
cmp -s "$u/latest.ckpt" "$tmp/latest.before" && cmp -s "$u/best.ckpt" "$tmp/best.before" \
  && ok "... still byte-identical" || bad "a refused run changed the checkpoints"
expect 0 "deleted the checkpoints of the previous run in .*used \(--overwrite\)" \
  "--overwrite starts a new run there" -- "$train" --members 1 "${run[@]}" --hidden 4 --epochs 1 --overwrite -c "$u"
[ "$(stat -c %s "$u/latest.ckpt")" -lt "$(stat -c %s "$tmp/latest.before")" ] \
  && [ "$(stat -c %s "$u/best.ckpt")" -lt "$(stat -c %s "$tmp/best.before")" ] \
  && ok "... and both checkpoints are the new, smaller model's" || bad "--overwrite left the old checkpoints"
expect 0 "" "the new run resumes as usual" -- "$train" --members 1 --resume --epochs 2 --quiet -c "$u"

# --- two trainers started together on one directory ---
d=$tmp/both
start=$(now_ms)
# (--patience 0: an early stop would end the winner before the test does.)
"$train" --members 1 "${run[@]}" --patience 0 --epochs 100000 -c "$d" >"$tmp/a.out" 2>"$tmp/a.err" &
a=$!
"$train" --members 1 "${run[@]}" --patience 0 --epochs 100000 -c "$d" >"$tmp/b.out" 2>"$tmp/b.err" &
b=$!
loser=""
for _ in $(seq 400); do
  if ! kill -0 $a 2>/dev/null; then loser=a lpid=$a won=b winner=$b; break; fi
  if ! kill -0 $b 2>/dev/null; then loser=b lpid=$b won=a winner=$a; break; fi
  sleep 0.02
done
elapsed=$(($(now_ms) - start))
if [ -z "$loser" ]; then
  bad "two trainers on one directory both still run after $elapsed ms"
  kill -KILL $a $b 2>/dev/null
  wait $a $b 2>/dev/null
else
  status=0
  wait $lpid || status=$?
  # At once, not after an epoch: well under the 8 s it may wait here, and
  # still so on a loaded machine (1 s was passed at a load of 8 on 2 cores).
  if [ $status -eq 1 ] && [ $elapsed -lt 3000 ]; then
    ok "the second trainer exits with status 1 after $elapsed ms"
  else
    bad "the second trainer: status $status after $elapsed ms: $(head -c 300 "$tmp/$loser.err")"
  fi
  grep -Eq "checkpoint directory $d is in use by another training run \(process $winner holds $d/train\.lock\)" "$tmp/$loser.err" \
    && ok "... naming the directory and the process that holds it" || bad "message: $(cat "$tmp/$loser.err")"
  grep -q "^epoch" "$tmp/$loser.out" && bad "the trainer refused trained anyway" || ok "... without training"
  kill -0 $winner 2>/dev/null && ok "the other one trains on" || bad "the winner stopped: $(cat "$tmp/a.err" "$tmp/b.err")"
  wait_for holds_pid "$d" $winner && ok "... holding the lock file, with its process id" \
    || bad "lock file: '$(cat "$d/train.lock" 2>/dev/null)', expected $winner"

  # The readers take no lock.
  expect 0 "" "dinornn-sample reads a checkpoint of a directory in use" -- "$sample" -c "$d/latest.ckpt" -n 2
  expect 0 "" "so does dinornn-eval" -- "$eval_" -c "$d/latest.ckpt" --data "$tmp/names.txt"
  mkdir "$tmp/plain" && cp "$d/latest.ckpt" "$tmp/plain/"
  "$sample" -c "$tmp/plain/latest.ckpt" -n 1 >/dev/null && "$eval_" -c "$tmp/plain/latest.ckpt" --data "$tmp/names.txt" >/dev/null
  [ ! -e "$tmp/plain/train.lock" ] && ok "... and neither makes a lock file" || bad "a reader made a lock file"
  # What a live trainer is writing is not a leftover for another trainer to delete.
  : > "$d/latest.ckpt.tmp-Live01"
  expect 1 "checkpoint directory $d is in use.*process $winner" "a trainer resuming a directory in use is refused" -- \
    "$train" --members 1 --resume --epochs 100000 --threads 1 -c "$d"
  expect 1 "in use" "so is a new run there (status 1, not 2)" -- "$train" --members 1 "${run[@]}" --epochs 1 -c "$d"
  [ -e "$d/latest.ckpt.tmp-Live01" ] && ok "the live trainer's temporary file survives both" \
    || bad "another trainer deleted the live trainer's temporary file"

  kill -TERM $winner
  status=0
  wait $winner || status=$?
  [ $status -eq 143 ] && ok "the winner stops on SIGTERM" || bad "winner: status $status"
  # The winner's checkpoint resumes exactly: finishing its epoch equals a
  # run that went to that epoch in one go.
  e=$(sed -n 's/.*during epoch \([0-9]*\) .*/\1/p' "$tmp/$won.err")
  expect 0 "removed 1 unfinished checkpoint file" "the winner's checkpoint resumes; its leftover is removed then" -- \
    "$train" --members 1 --resume --epochs "$e" --threads 1 -c "$d"
  [ ! -e "$d/latest.ckpt.tmp-Live01" ] && ok "... and gone" || bad "stale file still there"
  "$train" --members 1 "${run[@]}" --patience 0 --epochs "$e" --quiet -c "$tmp/ref" || bad "reference run failed"
  cmp -s "$d/latest.ckpt" "$tmp/ref/latest.ckpt" && ok "... exactly: epoch $e equals an uninterrupted run's" \
    || bad "the resumed winner differs from an uninterrupted run of $e epochs"
fi

# --- kill -9 leaves no stale lock ---
k=$tmp/k9
"$train" --members 1 "${run[@]}" --epochs 100000 --quiet -c "$k" &
pid=$!
wait_for holds_pid "$k" $pid || bad "the trainer to kill did not start"
kill -KILL $pid
wait $pid 2>/dev/null
start=$(now_ms)
expect 0 "" "after kill -9 the next trainer gets the lock" -- "$train" --members 1 --resume --epochs 1 --threads 1 -c "$k"
elapsed=$(($(now_ms) - start))
[ $elapsed -lt 1000 ] && ok "... at once ($elapsed ms)" || bad "... after $elapsed ms"
grep -q "in use" "$tmp/err" && bad "... but said the directory is in use" || true

# --- missing parents are created, like mkdir -p ---
mkdir "$tmp/cwd"
expect 0 "" "--checkpoint-dir a/b/c with none of them existing" -- \
  bash -c "cd '$tmp/cwd' && exec '$train' --data '$tmp/names.txt' --layers 1 --hidden 8 --samples 0 --threads 1 --epochs 1 --quiet --checkpoint-dir a/b/c"
[ -s "$tmp/cwd/a/b/c/latest.ckpt" ] && ok "... writes a/b/c/latest.ckpt" || bad "no a/b/c/latest.ckpt"
: > "$tmp/cwd/file"
expect 1 "cannot create checkpoint directory .*file/x: .*file: Not a directory" \
  "a file in the way of a missing parent is named" -- "$train" --members 1 "${run[@]}" --epochs 1 -c "$tmp/cwd/file/x"

# --- every rule for each checkpoint, and for each way of naming it ---
# A lone best.ckpt is a run's (a new run could replace another's model): it
# is refused, and the advice is one that works: best.ckpt holds the whole
# state, so --resume=DIR/best.ckpt goes on from its best epoch.
b=$tmp/onlybest
mkdir "$b" && cp "$u/best.ckpt" "$b/" && cp "$b/best.ckpt" "$tmp/onlybest.before"
expect 2 "$b already holds the checkpoints of another run \(best\.ckpt\); to continue that run, add --resume=$b/best\.ckpt \(from its best epoch: its latest\.ckpt is gone\); to keep it .*another --checkpoint-dir.*add --overwrite" \
  "a new run in a directory holding only best.ckpt is refused" -- "$train" --members 1 "${run[@]}" --epochs 1 -c "$b"
expect 2 "$b holds the checkpoints of another run \(best\.ckpt\), which resuming" \
  "so is resuming another directory's checkpoint there" -- "$train" --members 1 --resume="$tmp/other/latest.ckpt" --epochs 2 -c "$b"
cmp -s "$b/best.ckpt" "$tmp/onlybest.before" && [ ! -e "$b/latest.ckpt" ] && ok "... best.ckpt unchanged" \
  || bad "a refused run changed $b: $(ls "$b")"
expect 1 "latest\.ckpt: cannot open checkpoint: No such file or directory; $b holds only best\.ckpt: to continue from its best epoch, give --resume=$b/best\.ckpt" \
  "--resume there says the same, not 'nothing to resume'" -- "$train" --members 1 --resume --epochs 3 -c "$b"
grep -q "nothing to resume" "$tmp/err" && bad "... and contradicts it" || ok "... without contradicting it"
expect 1 "missing\.ckpt: cannot open checkpoint: No such file or directory \(check the file given to --resume\)" \
  "--resume=FILE of a file that is not there says to check it (not 'nothing to resume')" -- \
  "$train" --members 1 --resume="$tmp/missing.ckpt" --epochs 3 -c "$tmp/nowhere"
[ ! -e "$tmp/nowhere" ] && ok "... and makes no directory" || bad "made $tmp/nowhere"
expect 0 "" "the advice works: --resume=DIR/best.ckpt" -- "$train" --members 1 --resume="$b/best.ckpt" --epochs 3 -c "$b"
grep -q "resuming from $b/best\.ckpt at epoch" "$tmp/out" && [ -s "$b/latest.ckpt" ] \
  && ok "... continues that run in its directory" || bad "... $(cat "$tmp/out")"
l=$tmp/onlylatest
mkdir "$l" && cp "$u/latest.ckpt" "$l/"
expect 2 "$l already holds the checkpoints of another run \(latest\.ckpt\); to continue that run, add --resume;" \
  "a new run in a directory holding only latest.ckpt is refused" -- "$train" --members 1 "${run[@]}" --epochs 1 -c "$l"
o=$tmp/onlybest2
mkdir "$o" && cp "$tmp/onlybest.before" "$o/best.ckpt"
expect 0 "deleted the checkpoints of the previous run in .*onlybest2 \(--overwrite\)" \
  "--overwrite replaces a lone best.ckpt" -- "$train" --members 1 "${run[@]}" --hidden 6 --epochs 1 --overwrite -c "$o"
[ "$(stat -c %s "$o/best.ckpt")" -ne "$(stat -c %s "$tmp/onlybest.before")" ] && ok "... with the new run's" \
  || bad "--overwrite left the old best.ckpt"
# Leftovers of an interrupted write of best.ckpt go too, not only latest.ckpt's.
: > "$b/best.ckpt.tmp-Stale1"
expect 0 "removed 1 unfinished checkpoint file" "a leftover of a best.ckpt write is removed" -- \
  "$train" --members 1 --resume --epochs 4 -c "$b"
[ ! -e "$b/best.ckpt.tmp-Stale1" ] && ok "... and gone" || bad "best.ckpt's leftover still there"
# The directory's own run, whatever the spelling of its path.
expect 0 "" "--resume=FILE in the directory, named another way, is its own run" -- \
  "$train" --members 1 --resume="$tmp/./cwd/../onlybest/latest.ckpt" --epochs 5 -c "$b"
grep -q "resuming from .*onlybest/latest\.ckpt at epoch 4" "$tmp/out" && ok "... and goes on" || bad "... $(cat "$tmp/out")"

# A checkpoint that another run saves while this one starts in a directory
# without a lock file (only made once the run can start): the run does not
# go on from the old one, and leaves no lock file.
r=$tmp/race
mkdir "$r" && cp "$u/latest.ckpt" "$r/" && mkfifo "$tmp/race.fifo"
exec 7<>"$tmp/race.fifo"
"$train" --members 1 --resume --data "$tmp/race.fifo" --epochs 5 --quiet -c "$r" 2>"$tmp/race.err" 7>&- &
pid=$!
waiting() { ls -l "/proc/$pid/fd" 2>/dev/null | grep -q race\\.fifo; }
if wait_for waiting; then
  cp "$u/best.ckpt" "$r/new" && mv "$r/new" "$r/latest.ckpt"
  cat "$tmp/names.txt" >&7
  exec 7>&-
  status=0
  wait $pid || status=$?
  [ $status -eq 1 ] && grep -q "race/latest\.ckpt changed while this run was starting (another run saved it): start again" "$tmp/race.err" \
    && ok "a checkpoint replaced while the run starts is not gone on from" || bad "status $status: $(cat "$tmp/race.err")"
  [ ! -e "$r/train.lock" ] && ok "... and no lock file is left" || bad "lock file left"
else
  exec 7>&-
  kill $pid 2>/dev/null
  bad "the trainer did not open the FIFO: $(cat "$tmp/race.err")"
fi

finish

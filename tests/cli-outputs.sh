#!/usr/bin/env bash
# cli-outputs.sh: every file dinornn-train writes (--log, the checkpoints,
# the lock file) is checked before anything is written against every file
# the run reads and every checkpoint, under any name, and must be a regular
# file of its own kind: a clear refusal (status 2), the file unchanged,
# nothing created, never a wait on a FIFO. Names read from a pipe cannot be
# read twice: said when training, refused at once when a later run would
# wait for them. A start that fails leaves nothing it created.
. "${top_srcdir:-.}/tests/cli-lib.sh"
train=$bin/dinornn-train
sample=$bin/dinornn-sample
eval_=$bin/dinornn-eval
head -n 300 "$data" > "$tmp/names.txt"
names=$tmp/names.txt
cp "$names" "$tmp/names.before"
run=(--members 1 --layers 1 --hidden 8 --samples 0 --threads 1 --quiet)
"$train" "${run[@]}" --data "$names" --epochs 1 -c "$tmp/m" --log "$tmp/m.jsonl" || bad "setup: training failed"
cp "$tmp/m/latest.ckpt" "$tmp/latest.before"
cp "$tmp/m/best.ckpt" "$tmp/best.before"
unchanged() { cmp -s "$names" "$tmp/names.before" && cmp -s "$tmp/m/latest.ckpt" "$tmp/latest.before" \
  && cmp -s "$tmp/m/best.ckpt" "$tmp/best.before"; }
# refused DESCRIPTION PATTERN -- ARGS...: a new run into $tmp/new refused
# with status 2, nothing changed, no directory made.
refused() {
  local what=$1 pattern=$2
  shift 3
  rm -rf "$tmp/new"
  expect 2 "$pattern" "$what" -- timeout 20 "$train" "${run[@]}" --epochs 1 "$@"
  unchanged && [ ! -e "$tmp/new" ] && ok "... nothing changed, nothing made" \
    || bad "... $what changed a file or made $tmp/new: $(ls "$tmp/new" 2>&1)"
}

# --- the log: not an input, not a checkpoint, not another output, under any name ---
refused "--log is the --data file" "names\.txt: the log \(--log\) is also the training data, which appending the log would damage; give --log another file" \
  -- --data "$names" -c "$tmp/new" --log "$names"
ln "$names" "$tmp/hard.txt"
refused "--log is a hard link to the data" "hard\.txt: the log \(--log\) is also the training data \(.*names\.txt\)" \
  -- --data "$names" -c "$tmp/new" --log "$tmp/hard.txt"
ln -s names.txt "$tmp/soft.txt"
refused "--log is a symbolic link to the data" "soft\.txt: the log \(--log\) is also the training data" \
  -- --data "$names" -c "$tmp/new" --log "$tmp/soft.txt"
refused "--log is the data by another spelling (./x for x)" "the log \(--log\) is also the training data" \
  -- --data "$names" -c "$tmp/new" --log "$tmp/./m/../names.txt"
refused "--log is the --val-data file" "the log \(--log\) is also the validation data \(--val-data\)" \
  -- --data "$data" --val-data "$names" -c "$tmp/new" --log "$names"
refused "--log is the run's own latest.ckpt, not there yet" "the log \(--log\) is also the run's latest checkpoint" \
  -- --data "$names" -c "$tmp/new" --log "$tmp/new/latest.ckpt"
refused "--log is the directory's lock file" "the log \(--log\) is also the checkpoint directory's lock file" \
  -- --data "$names" -c "$tmp/m" --log "$tmp/m/train.lock"
cp "$tmp/m.jsonl" "$tmp/m/latest.ckpt.tmp-Abc123"
refused "--log named like a leftover of a checkpoint's write, which a start deletes" \
  "tmp-Abc123: the log \(--log\) is named like what an interrupted write of a checkpoint leaves in .*m, which the next start there deletes" \
  -- --resume -c "$tmp/m" --log "$tmp/m/latest.ckpt.tmp-Abc123"
cmp -s "$tmp/m.jsonl" "$tmp/m/latest.ckpt.tmp-Abc123" && ok "... which is still there" || bad "the log was deleted"
rm "$tmp/m/latest.ckpt.tmp-Abc123"
refused "--log is another run's checkpoint" "m/best\.ckpt: the log \(--log\) is a dinornn checkpoint, which appending the log would damage" \
  -- --data "$names" -c "$tmp/new" --log "$tmp/m/best.ckpt"
printf 'Aardonyx\nAbelisaurus\n' > "$tmp/mine.txt"
cp "$tmp/mine.txt" "$tmp/mine.before"
refused "--log is a file that is not a dinornn-train log" "mine\.txt: the log \(--log\) holds something other than a dinornn-train log" \
  -- --data "$names" -c "$tmp/new" --log "$tmp/mine.txt"
cmp -s "$tmp/mine.txt" "$tmp/mine.before" && ok "... which is as it was" || bad "the user's file changed"
mkfifo "$tmp/fifo"
refused "--log is a FIFO with no reader (refused at once, not waited on)" "fifo: the log \(--log\) is a named pipe \(FIFO\), not a regular file" \
  -- --data "$names" -c "$tmp/new" --log "$tmp/fifo"
refused "--log is a device" "/dev/null: the log \(--log\) is a character device, not a regular file" \
  -- --data "$names" -c "$tmp/new" --log /dev/null
refused "--log is a directory" "the log \(--log\) is a directory" -- --data "$names" -c "$tmp/new" --log "$tmp/m"
# On resume: the recorded data, the checkpoint resumed from, the checkpoints.
expect 2 "names\.txt: the log \(--log\) is also the training data" "--log is the data recorded in the checkpoint (--resume, no --data)" -- \
  "$train" "${run[@]}" --resume --epochs 2 -c "$tmp/m" --log "$names"
expect 2 "latest\.ckpt: the log \(--log\) is also the checkpoint resumed from" "--log is the checkpoint resumed from" -- \
  "$train" "${run[@]}" --resume="$tmp/m/latest.ckpt" --epochs 2 -c "$tmp/new" --log "$tmp/m/latest.ckpt"
expect 2 "best\.ckpt: the log \(--log\) is also the run's best checkpoint" "--log is the run's own best.ckpt" -- \
  "$train" "${run[@]}" --resume --epochs 2 -c "$tmp/m" --log "$tmp/m/best.ckpt"
unchanged && ok "... the data and both checkpoints unchanged" || bad "a refused resume changed a file"
# A log of ours goes on; an empty file is a new log.
expect 0 "" "--log is the log of an earlier epoch: appended to" -- \
  "$train" "${run[@]}" --resume --epochs 2 -c "$tmp/m" --log "$tmp/m.jsonl"
[ "$(wc -l < "$tmp/m.jsonl")" -eq 2 ] && ok "... one line more" || bad "log: $(cat "$tmp/m.jsonl")"
cp "$tmp/m/latest.ckpt" "$tmp/latest.before"
cp "$tmp/m/best.ckpt" "$tmp/best.before"
: > "$tmp/empty.jsonl"
expect 0 "" "--log is an empty file" -- "$train" "${run[@]}" --data "$names" --epochs 1 -c "$tmp/e" --log "$tmp/empty.jsonl"
# Two runs never write one log: the second is refused, and leaves nothing.
"$train" "${run[@]}" --patience 0 --data "$names" --epochs 100000 -c "$tmp/long" --log "$tmp/long.jsonl" 2>/dev/null &
long=$!
for _ in $(seq 250); do [ -s "$tmp/long/latest.ckpt" ] && break; sleep 0.02; done
rm -rf "$tmp/new"
expect 1 "log .*long\.jsonl is in use by another training run; give --log another file" \
  "a log that another run is writing" -- "$train" "${run[@]}" --data "$names" --epochs 1 -c "$tmp/new" --log "$tmp/long.jsonl"
[ ! -e "$tmp/new" ] && ok "... refused, leaving no directory" || bad "left: $(ls -a "$tmp/new")"
kill -TERM $long
wait $long 2>/dev/null

# --- the checkpoints and the lock file: each a file of its kind ---
mkdir "$tmp/c"
cp "$tmp/mine.txt" "$tmp/c/latest.ckpt"
expect 2 "c/latest\.ckpt: the run's latest checkpoint is also the training data, which a save would replace; move it out of .*c, or train in another --checkpoint-dir" \
  "--data is a names file called latest.ckpt in the checkpoint directory" -- "$train" "${run[@]}" --data "$tmp/c/latest.ckpt" --epochs 1 -c "$tmp/c"
expect 2 "c/latest\.ckpt: the run's latest checkpoint holds something other than a dinornn checkpoint, which a save would replace" \
  "a file that is not a checkpoint where latest.ckpt goes, even with --overwrite" -- \
  "$train" "${run[@]}" --data "$names" --epochs 1 -c "$tmp/c" --overwrite
cmp -s "$tmp/c/latest.ckpt" "$tmp/mine.before" && ok "... which is not deleted" || bad "the file called latest.ckpt changed"
rm "$tmp/c/latest.ckpt"
mkdir "$tmp/c/best.ckpt"
expect 2 "best\.ckpt: the run's best checkpoint is a directory" "a directory where best.ckpt goes" -- \
  "$train" "${run[@]}" --data "$names" --epochs 1 -c "$tmp/c"
rmdir "$tmp/c/best.ckpt"
ln -s ../names.txt "$tmp/c/train.lock"
expect 2 "train\.lock: the checkpoint directory's lock file is a symbolic link" "a lock file that is a symbolic link to the data" -- \
  "$train" "${run[@]}" --data "$data" --epochs 1 -c "$tmp/c"
rm "$tmp/c/train.lock"
ln "$names" "$tmp/c/train.lock"
expect 2 "train\.lock: the checkpoint directory's lock file has other names" "a lock file that is a hard link to the data" -- \
  "$train" "${run[@]}" --data "$data" --epochs 1 -c "$tmp/c"
rm "$tmp/c/train.lock"
cp "$tmp/mine.txt" "$tmp/c/train.lock"
expect 2 "train\.lock: the checkpoint directory's lock file holds something other than a process id" \
  "a lock file holding other data" -- "$train" "${run[@]}" --data "$names" --epochs 1 -c "$tmp/c"
cmp -s "$tmp/c/train.lock" "$tmp/mine.before" && ok "... which is not overwritten" || bad "the lock file was overwritten"
rm "$tmp/c/train.lock"
mkfifo "$tmp/c/train.lock"
expect 2 "train\.lock: the checkpoint directory's lock file is a named pipe \(FIFO\)" "a FIFO as lock file, refused at once" -- \
  timeout 20 "$train" "${run[@]}" --data "$names" --epochs 1 -c "$tmp/c"
rm "$tmp/c/train.lock"
unchanged && ok "the data, as every file above, unchanged" || bad "the data changed"
expect 2 "train\.lock: the checkpoint directory's lock file is also the training data" "--data is the directory's lock file" -- \
  "$train" "${run[@]}" --data "$tmp/m/train.lock" --epochs 1 -c "$tmp/m" --overwrite

# --- names read from a pipe are read once ---
fifo=$tmp/fifo
expect 0 "warning: /dev/stdin is a named pipe \(FIFO\), not a file: its names can be read only once, so --resume, dinornn-eval and dinornn-sample --novel will need them given with --data FILE" \
  "training from a pipe says what will need the names again" -- \
  bash -c 'head -n 60 "$1" | "$2" --members 1 --layers 1 --hidden 8 --samples 0 --threads 1 --epochs 1 --data /dev/stdin -c "$3"' _ "$names" "$train" "$tmp/p"
head -n 60 "$names" > "$tmp/sixty.txt"
# on_fifo COMMAND...: standard input a FIFO held open for writing too, so
# that reading it would wait forever (timeout's 124), as on a terminal.
on_fifo=(timeout 20 bash -c 'exec "${@:2}" 0<>"$1"' _ "$fifo")
expect 1 "/dev/stdin \(the training data recorded in .*p/best\.ckpt\) is a named pipe \(FIFO\), not a file: its names were read once, when that model was trained, and cannot be read again; give the names to evaluate with --data FILE" \
  "dinornn-eval of that model refuses at once instead of waiting" -- "${on_fifo[@]}" "$eval_" -c "$tmp/p/best.ckpt"
expect 1 "/dev/stdin \(the training data recorded in .*\) is a named pipe \(FIFO\).*--novel needs the training names: give them with --data FILE" \
  "dinornn-sample --novel refuses at once" -- "${on_fifo[@]}" "$sample" -c "$tmp/p/latest.ckpt" --novel
expect 1 "/dev/stdin \(the training data recorded in .*p/latest\.ckpt\) is a named pipe \(FIFO\).*give them with --data FILE" \
  "dinornn-train --resume refuses at once" -- "${on_fifo[@]}" "$train" --members 1 --resume --epochs 2 -c "$tmp/p"
expect 1 "/dev/stdin \(the training data recorded in .*\) is a character device, not a file" \
  "... as for a device (standard input /dev/null)" -- "$eval_" -c "$tmp/p/best.ckpt" < /dev/null
expect 0 "" "given with --data FILE, the same names evaluate" -- "$eval_" -c "$tmp/p/best.ckpt" --data "$tmp/sixty.txt"
expect 0 "" "... and the run resumes" -- "$train" --members 1 --resume --data "$tmp/sixty.txt" --epochs 2 --quiet -c "$tmp/p"

# --- a start that fails leaves nothing it created ---
expect 1 "missing\.txt: no such file" "a new run whose data is missing" -- \
  "$train" "${run[@]}" --data "$tmp/missing.txt" --epochs 1 -c "$tmp/fresh/a/b"
[ ! -e "$tmp/fresh" ] && ok "... leaves no directory" || bad "left: $(find "$tmp/fresh")"
mkdir "$tmp/kept"
expect 1 "" "the same in an empty directory of the user's" -- \
  "$train" "${run[@]}" --data "$tmp/mine.before" --val-data "$tmp/missing.txt" --epochs 1 -c "$tmp/kept"
[ -d "$tmp/kept" ] && [ -z "$(ls -A "$tmp/kept")" ] && ok "... which stays, empty (no lock file)" \
  || bad "left: $(ls -A "$tmp/kept")"
printf 'abc\0def\n' > "$tmp/binary.txt"
expect 1 "NUL byte" "a new run on a binary file" -- "$train" "${run[@]}" --data "$tmp/binary.txt" --epochs 1 -c "$tmp/fresh"
[ ! -e "$tmp/fresh" ] && ok "... leaves no directory" || bad "left: $(find "$tmp/fresh")"

finish

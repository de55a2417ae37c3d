#!/usr/bin/env bash
# cli-guards.sh: properties that a careless edit would break while every
# other test passed: the order of a checkpoint save's system calls, a
# loader that reads no more than the header promises, and usage conflicts
# that exit 2.
. "${top_srcdir:-.}/tests/cli-lib.sh"
train=$bin/dinornn-train

# --- a save is write, fsync, rename, fsync of the directory ---
# Under strace, for every checkpoint written: the temporary file is written
# and fsynced before it is renamed over the checkpoint, and the directory is
# opened and fsynced after the rename.
if command -v strace >/dev/null && strace -o /dev/null true 2>/dev/null; then
  # (LeakSanitizer cannot run under ptrace: off for this run of a sanitizer build.)
  ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
  strace -f -qq -e trace=openat,write,fsync,fdatasync,rename,renameat,renameat2,close \
    -o "$tmp/trace" "$train" --members 1 --data "$data" --layers 1 --hidden 8 --epochs 1 --samples 0 --quiet \
    --checkpoint-dir "$tmp/ck" || bad "training under strace failed"
  # One line per event, in order: T(mp opened as fd N), W(rite to it), S(ync
  # of it), R(ename of it), D(irectory opened as fd M), Y (sync of it).
  awk '
    { sub(/^[0-9]+ +/, "") }
    /openat\(.*\.tmp-[^"]*".*= [0-9]+$/ { fd = $NF; tmp[fd] = 1; print "T"; next }
    /^write\(/ { split($0, a, /[(,]/); if (a[2] in tmp) print "W"; next }
    /^f(data)?sync\(/ { split($0, a, /[()]/); if (a[2] in tmp) print "S"; else if (a[2] in dir) print "Y"; next }
    /^close\(/ { split($0, a, /[()]/); delete tmp[a[2]]; delete dir[a[2]]; next }
    /^rename(at2?)?\(.*\.tmp-.*\.ckpt".*= 0$/ { print "R"; next }
    /openat\(.*O_DIRECTORY.*= [0-9]+$/ { dir[$NF] = 1; print "D"; next }
  ' "$tmp/trace" | tr -d '\n' > "$tmp/events"
  # latest.ckpt and best.ckpt: each T W+ S R D Y (before them, D and T alone:
  # the directory read at the start, and the probe that it takes new files).
  if grep -Eq '^[DT]*(TW+SRDY){2}D*$' "$tmp/events"; then
    ok "each save writes, fsyncs, renames, then fsyncs the directory ($(cat "$tmp/events"))"
  else
    bad "checkpoint saves in the wrong order or without a sync: $(cat "$tmp/events")"
  fi
else
  echo "SKIP the order of a save's system calls: strace is missing or cannot trace here"
fi

# --- a checkpoint padded far past its header's sizes is refused, unread ---
# 300 MB of padding under a 150 MB address-space limit: a loader that read
# the whole file first would fail to allocate instead of naming the problem.
"$train" --members 1 --data "$data" --layers 1 --hidden 8 --epochs 1 --samples 0 --quiet --checkpoint-dir "$tmp/pad" ||
  bad "training failed"
cp "$tmp/pad/latest.ckpt" "$tmp/padded.ckpt"
truncate -s +300M "$tmp/padded.ckpt"
if grep -Eq '^DRNN_SANITIZE_CFLAGS *= *-f' "$top_builddir/Makefile" 2>/dev/null; then
  echo "SKIP loading under ulimit -v: the sanitizers reserve more address space than the limit"
else
  expect 1 "padded\.ckpt.*(size|corrupt|truncated)" "a checkpoint padded by 300 MB is refused under ulimit -v 150000" -- \
    bash -c "ulimit -v 150000; exec \"$bin/dinornn-eval\" -c \"$tmp/padded.ckpt\" --data \"$data\""
fi

# --- usage conflicts are usage errors (2), not runtime failures (1) ---
ck=$tmp/pad/latest.ckpt
cp "$ck" "$tmp/conflict.ckpt"
expect 2 "--hidden" "a resume with another --hidden" -- "$train" --members 1 --resume="$tmp/conflict.ckpt" -c "$tmp/other" --data "$data" --hidden 9 --quiet
expect 2 "--cell" "a resume with another --cell" -- "$train" --members 1 --resume="$tmp/conflict.ckpt" -c "$tmp/other" --data "$data" --cell lstm --quiet
expect 2 "--score" "--score with --best" -- "$bin/dinornn-sample" -c "$ck" --score --best 3 abc
expect 2 "--min-length" "--min-length above --max-length" -- "$bin/dinornn-sample" -c "$ck" --min-length 5 --max-length 4
cmp -s "$ck" "$tmp/conflict.ckpt" && ok "a refused resume leaves the checkpoint as it was" || bad "a refused resume changed the checkpoint"

finish

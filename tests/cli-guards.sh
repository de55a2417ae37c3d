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

# --- the OpenMP variables are read like options ---
# A value past INT_MAX came back from the runtime as 0 or negative: one
# segfaulted the trainer, others were "out of memory" for the data file, one
# trained on a single thread in silence. Every program refuses a value that
# is not a thread count, naming the variable and what to write (status 2),
# before it reads or creates anything. (tests/check_train's "runtime
# threads" case below holds the library's own guard.)
prog_cmd() { # sets cmd to a short run of program $1
  case $1 in
    train) cmd=("$train" --members 1 --data "$data" --layers 1 --hidden 8 --epochs 1 --samples 0 -c "$tmp/envrun") ;;
    sample) cmd=("$bin/dinornn-sample" -c "$ck" -n 2) ;;
    eval) cmd=("$bin/dinornn-eval" -c "$ck") ;;
    bench) cmd=("$bin/dinornn-bench" --data "$data" --config a --epochs 1 --threads 1) ;;
  esac
}
for prog in train sample eval bench; do
  prog_cmd $prog
  for v in 0 -1 2147483648 4294967296 99999999999999999999 abc "" "4,abc" "4,0" " 4"; do
    expect 2 "OMP_NUM_THREADS='$v'.* (is out of range|is not a whole number|is empty|has blanks around it): write a thread count from 1 to 2147483647.*unset" \
      "dinornn-$prog refuses OMP_NUM_THREADS='$v'" -- env OMP_NUM_THREADS="$v" "${cmd[@]}"
  done
  for v in 0 2147483648 abc; do
    expect 2 "OMP_THREAD_LIMIT='$v' is (out of range|not a whole number): write the most threads" \
      "dinornn-$prog refuses OMP_THREAD_LIMIT='$v'" -- env OMP_THREAD_LIMIT="$v" "${cmd[@]}"
  done
  expect 2 "OMP_DYNAMIC='1' is neither true nor false: write OMP_DYNAMIC=false" "dinornn-$prog refuses OMP_DYNAMIC=1" -- \
    env OMP_DYNAMIC=1 "${cmd[@]}"
  [ ! -e "$tmp/envrun" ] || bad "dinornn-$prog: a refused variable left $tmp/envrun"
  expect 0 "" "dinornn-$prog takes the list form OMP_NUM_THREADS=2,1" -- env OMP_NUM_THREADS=2,1 "${cmd[@]}"
  rm -rf "$tmp/envrun"
done
expect 0 "" "OMP_NUM_THREADS=2,1: dinornn-train" -- env OMP_NUM_THREADS=2,1 \
  "$train" --members 1 --data "$data" --layers 1 --hidden 8 --epochs 1 --samples 0 -c "$tmp/env2"
# 2 threads, or fewer where the trainer measured fewer to be faster (a busy
# machine: make check -j runs other tests beside it), said as "1 of 2".
grep -Eq "\[(1 of )?2 threads\]" "$tmp/out" && ok "... trains on 2 threads" || bad "... output: $(tail -n 2 "$tmp/out")"
expect 0 "" "OMP_THREAD_LIMIT=1 OMP_NUM_THREADS=8: dinornn-train" -- env OMP_THREAD_LIMIT=1 OMP_NUM_THREADS=8 \
  "$train" --members 1 --data "$data" --layers 1 --hidden 8 --epochs 1 --samples 0 -c "$tmp/env3"
grep -q "\[1 thread\]" "$tmp/out" && ok "... trains on 1 thread, and says so" || bad "... output: $(tail -n 2 "$tmp/out")"
expect 2 "--threads 2 is above OMP_THREAD_LIMIT=1.*give --threads 1 or fewer" "--threads above OMP_THREAD_LIMIT: dinornn-train" -- \
  env OMP_THREAD_LIMIT=1 "$train" --members 1 --data "$data" --threads 2 -c "$tmp/env4"
expect 2 "--threads 2 is above OMP_THREAD_LIMIT=1" "--threads above OMP_THREAD_LIMIT: dinornn-bench" -- \
  env OMP_THREAD_LIMIT=1 "$bin/dinornn-bench" --data "$data" --config a --epochs 1 --threads 1,2
[ -s "$tmp/out" ] && bad "... dinornn-bench measured before refusing: $(head -c 200 "$tmp/out")" || ok "... before measuring anything"
expect 0 "OMP_DYNAMIC=true lets OpenMP run fewer than these 2 threads" "OMP_DYNAMIC=TRUE is taken, with a warning" -- \
  env OMP_DYNAMIC=TRUE OMP_NUM_THREADS=2 "$bin/dinornn-eval" -c "$ck"

# --- dinornn-bench's options: every --config name is one of its
# configurations (a name like "x" or "ab" ran nothing, or two, in silence),
# operands are refused, the default data file is named as the default ---
expect 2 "--config: 'x' is not a configuration: give some of a, b, c, d, e" "dinornn-bench --config x" -- \
  "$bin/dinornn-bench" --data "$data" --config x
expect 2 "--config: 'ab' is not a configuration" "dinornn-bench --config ab" -- "$bin/dinornn-bench" --data "$data" --config a,ab
expect 2 "unexpected argument 'extra'" "dinornn-bench refuses an operand" -- "$bin/dinornn-bench" --data "$data" extra
expect 0 "" "dinornn-bench --config e,a runs those two" -- "$bin/dinornn-bench" --data "$data" --config e,a --epochs 1 --threads 1
[ "$(grep -c '^  (\(a\|e\)) ' "$tmp/out")" -eq 2 ] && ok "... and only those" || bad "... output: $(cat "$tmp/out")"
mkdir "$tmp/elsewhere"
expect 1 "data/dinos\.txt: no such file \(the default, in the source tree: run from there, or give --data FILE\)" \
  "dinornn-bench away from the source tree names its default data" -- bash -c "cd \"$tmp/elsewhere\" && exec \"$(cd "$bin" && pwd)/dinornn-bench\""

# The library's guard: trained under counts that the runtime reports as 0
# or negative, it runs on at least one thread and gives one thread's bytes.
check_train=$top_builddir/tests/check_train
if [ -x "$check_train" ]; then
  for v in 4294967296 2147483648 3000000000; do
    if env OMP_NUM_THREADS=$v CK_RUN_CASE="runtime threads" "$check_train" >"$tmp/ct" 2>&1 &&
      grep -q "100%: Checks: 1," "$tmp/ct"; then
      ok "the library trains and evaluates under OMP_NUM_THREADS=$v (0 or negative to the runtime)"
    else
      bad "the library under OMP_NUM_THREADS=$v: $(grep -v '^libgomp' "$tmp/ct" | tail -n 3)"
    fi
  done
else
  echo "SKIP the library under hostile thread counts: tests/check_train not built (Check missing)"
fi

finish

#!/usr/bin/env bash
# cli-mpi.sh: dinornn-train over MPI (./configure --with-mpi): for 1, 2, 3 and 4
# processes of 1 and 2 threads, over shared memory and over TCP on
# loopback, the checkpoints are byte for byte those of one process alone,
# of a single model, of a mixture of models and of a model of a labeled list;
# so are those of a run stopped by SIGTERM to mpirun and resumed with
# another process count; a process killed with kill -9 ends the job with a
# non-zero status and leaves a checkpoint that loads; processes that read
# other names are refused. Skipped (77) in a build without MPI.
. "${top_srcdir:-.}/tests/cli-lib.sh"
train=$bin/dinornn-train
mpirun=${mpirun:-}
if [ -z "$mpirun" ]; then
  echo "SKIP: built without MPI (./configure --with-mpi, with Open MPI or MPICH installed)"
  exit 77
fi
# The rank, the thread and the other processes of the machine share 2 cores
# or so: threads that wait sleep instead of spinning.
export OMP_WAIT_POLICY=passive
# Open MPI: as root in CI; more processes than cores; no binding (a process
# of 2 threads would get one core); the transports named. MPICH's launcher
# needs none of this and picks its own transport.
sm=() tcp=()
if "$mpirun" --version 2>&1 | grep -q "Open MPI"; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  # Shared memory is "vader" before Open MPI 5, "sm" from 5 on.
  shm=vader
  ompi_info --param btl sm 2>/dev/null | grep -q 'MCA btl: sm' && shm=sm
  base=(--oversubscribe --bind-to none --mca pml ob1 -x OMP_WAIT_POLICY)
  sm=("${base[@]}" --mca btl "self,$shm")
  tcp=("${base[@]}" --mca btl self,tcp --mca btl_tcp_if_include lo --mca oob_tcp_if_include lo)
fi

# One model (--members 1): a mixture is the case of its own below.
small=(--data "$data" --members 1 --layers 2 --hidden 16 --epochs 2 --batch 20 --samples 0)

# ref DIR ARGS...: one process alone, into $tmp/DIR.
ref() {
  local dir=$1
  shift
  "$train" "${small[@]}" --quiet --threads 1 --checkpoint-dir "$tmp/$dir" "$@" >"$tmp/$dir.out" 2>&1 ||
    bad "the run of one process ($*) failed: $(head -c 300 "$tmp/$dir.out")"
}

# same WHAT REF DIR: both checkpoints of DIR are byte for byte REF's.
same() {
  if cmp -s "$tmp/$2/latest.ckpt" "$tmp/$3/latest.ckpt" && cmp -s "$tmp/$2/best.ckpt" "$tmp/$3/best.ckpt"; then
    ok "$1: checkpoints identical to one process's"
  else
    bad "$1: checkpoints differ from one process's"
  fi
}

# job WHAT NP TRANSPORT DIR ARGS...: mpirun -np NP dinornn-train into $tmp/DIR.
job() {
  local what=$1 np=$2 transport=$3 dir=$4 status=0
  shift 4
  local -n opts=$transport
  "$mpirun" -np "$np" "${opts[@]}" "$train" "${small[@]}" --checkpoint-dir "$tmp/$dir" "$@" \
    >"$tmp/$dir.out" 2>"$tmp/$dir.err" || status=$?
  [ "$status" -eq 0 ] || bad "$what: mpirun exited with $status: $(head -c 400 "$tmp/$dir.err")"
  return "$status"
}

# --- every process count and thread count, both transports: 8 slots (on
# 2 and 4 processes the tree's top by halving and doubling, MPI_Sendrecv;
# on 3 the plain tree and a broadcast) ---
ref ref
n=0
for case in "1 1 sm" "1 2 sm" "2 1 sm" "2 1 tcp" "2 2 sm" "3 1 sm" "3 1 tcp" "3 2 tcp" \
    "4 1 sm" "4 1 tcp"; do
  set -- $case
  n=$((n + 1))
  job "np $1 x $2 threads ($3)" "$1" "$3" "j$n" --threads "$2" && same "np $1 x $2 threads ($3)" ref "j$n"
done
# Process 0 speaks for the job: one line per epoch, naming the processes.
if [ "$(grep -c '^epoch ' "$tmp/j8.out")" -eq 2 ] && grep -q '^3 MPI processes' "$tmp/j8.out"; then
  ok "one report per epoch, from process 0"
else
  bad "the job's output is not process 0's alone: $(head -c 400 "$tmp/j8.out")"
fi
# The comparison can fail: another seed gives other bytes.
if job "another seed" 2 sm seed --seed 2 --quiet; then
  if cmp -s "$tmp/ref/latest.ckpt" "$tmp/seed/latest.ckpt"; then
    bad "another seed gives the same checkpoints: the comparison cannot fail"
  else
    ok "another seed gives other checkpoints (the comparison can fail)"
  fi
fi

# --- other slot counts: uneven shares, and a process without a slot ---
ref ref3 --slots 3
job "3 slots on 2 processes" 2 sm s3 --slots 3 --threads 2 --quiet && same "3 slots on 2 processes" ref3 s3
ref ref2 --slots 2
job "2 slots on 3 processes" 3 tcp s2 --slots 2 --quiet && same "2 slots on 3 processes" ref2 s2
if cmp -s "$tmp/ref/latest.ckpt" "$tmp/ref3/latest.ckpt"; then
  bad "3 slots train the same weights as 8: the slot count is not used"
fi

# --- a labeled list (NAME<TAB>LABEL, issue 29): the split by label, the
# label table and W_l alike on every process; 1, 2 and 3 processes write
# one process's bytes, a checkpoint of format version 4 ---
awk '{ print $0 "\t" (/saurus$/ ? "saurus" : /^[a-m]/ ? "early" : "late") }' "$data" >"$tmp/lab.txt"
ref reflab --data "$tmp/lab.txt"
version=$(od -An -tu1 -j8 -N1 "$tmp/reflab/latest.ckpt" | tr -d ' ')
[ "$version" = 4 ] && ok "a labeled run writes a version 4 checkpoint" ||
  bad "a labeled run's checkpoint is version '$version', not 4"
for case in "1 1 sm" "2 2 sm" "3 1 tcp"; do
  set -- $case
  job "labeled, np $1 x $2 threads ($3)" "$1" "$3" "lab$1" --data "$tmp/lab.txt" --threads "$2" --quiet &&
    same "labeled, np $1 x $2 threads ($3)" reflab "lab$1"
done

# --- a mixture of 3 models: every process trains the same members one
# after another (each member's early stop and plateau decays decided alike
# on each, from the same validation loss) and keeps the same best weights;
# process 0 alone reports each member ---
# (At this rate the plateau schedule lowers the rate in every member and the
# third stops early.)
mix=(--members 3 --epochs 16 --patience 2 --lr-patience 1 --lr 0.05)
ref refmix "${mix[@]}"
job "a mixture on 3 processes" 3 tcp mix "${mix[@]}" --threads 1 && same "a mixture on 3 processes" refmix mix
if [ "$(grep -c '^member [0-9]/3 done' "$tmp/mix.out")" -eq 3 ] &&
  grep -q '^the mixture of 3 models' "$tmp/mix.out"; then
  ok "a mixture: one report per member and one for the mixture, from process 0"
else
  bad "a mixture's output is not process 0's alone: $(head -c 400 "$tmp/mix.out")"
fi

# --- resume with another process count ---
job "first epoch on 2 processes" 2 sm r --epochs 1 --quiet &&
  job "second epoch resumed on 3 processes" 3 tcp r --resume --threads 2 --quiet &&
  same "resumed on another process count" ref r

# --- SIGTERM to mpirun: every process stops at the same mini-batch, one
# checkpoint; resumed on 3 processes it ends as the run that never stopped ---
# (Long enough that the signal comes before the end on a fast machine:
# Open MPI's mpirun passes SIGTERM on about a second after it has it, and
# an idle machine trains 40 epochs of this model in less; no early stop.)
long=(--data "$data" --members 1 --patience 0 --layers 2 --hidden 48 --epochs 200 --batch 16 --samples 0)
"$train" "${long[@]}" --quiet --threads 2 --checkpoint-dir "$tmp/longref" >/dev/null 2>&1 ||
  bad "the long run of one process failed"
"$mpirun" -np 2 "${sm[@]}" "$train" "${long[@]}" --threads 1 --checkpoint-dir "$tmp/term" \
  >"$tmp/term.out" 2>"$tmp/term.err" &
pid=$!
for _ in $(seq 1200); do [ -f "$tmp/term/latest.ckpt" ] && break; sleep 0.05; done
sleep 0.1
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
if [ "$status" -ne 0 ] && [ "$(grep -c 'interrupted by SIGTERM' "$tmp/term.err")" -eq 1 ]; then
  ok "SIGTERM to mpirun: status $status, one 'interrupted' report"
else
  bad "SIGTERM to mpirun: status $status; $(head -c 400 "$tmp/term.err")"
fi
if "$mpirun" -np 3 "${tcp[@]}" "$train" "${long[@]}" --resume --quiet --threads 2 \
  --checkpoint-dir "$tmp/term" >"$tmp/term2.out" 2>&1 &&
  cmp -s "$tmp/longref/latest.ckpt" "$tmp/term/latest.ckpt"; then
  ok "stopped by SIGTERM on 2 processes, resumed on 3: the run that never stopped"
else
  bad "the resumed run differs from the one that never stopped: $(head -c 400 "$tmp/term2.out")"
fi

# children_of PID: the processes whose parent is PID, from /proc (pgrep is
# not on a minimal system).
children_of() {
  local parent=$1 f line ppid child
  for f in /proc/[0-9]*/stat; do
    line=$(cat "$f" 2>/dev/null) || continue
    read -r _ ppid _ <<<"${line##*) }" # after the command's name: state, ppid
    child=${f#/proc/}
    [ "$ppid" = "$parent" ] && echo "${child%/stat}"
  done
  return 0
}

# process_of VICTIM DIR: the process id of process VICTIM (0 or 1) of the
# job of mpirun $pid, once the job has a checkpoint in DIR.
process_of() {
  local rank0
  for _ in $(seq 1200); do [ -f "$2/latest.ckpt" ] && break; sleep 0.05; done
  sleep 0.2
  # Process 0 wrote its id in the lock file; the other is its sibling.
  rank0=$(cat "$2/train.lock" 2>/dev/null)
  if [ "$1" = 0 ]; then
    echo "$rank0"
  else
    children_of "$pid" | grep -vx "$rank0" | head -1
  fi
}

# --- kill -9: the job ends non-zero, the last checkpoint loads ---
for victim in 0 1; do
  dir=$tmp/kill$victim
  "$mpirun" -np 2 "${sm[@]}" "$train" "${long[@]}" --epochs 1000 --quiet --threads 1 \
    --checkpoint-dir "$dir" >"$dir.out" 2>&1 &
  pid=$!
  target=$(process_of "$victim" "$dir")
  if [ -z "$target" ]; then
    bad "kill -9 of process $victim: could not find it"
    kill -TERM "$pid" 2>/dev/null
    wait "$pid"
    continue
  fi
  kill -9 "$target"
  status=0
  wait "$pid" || status=$?
  if [ "$status" -ne 0 ]; then
    ok "kill -9 of process $victim ends the job with status $status"
  else
    bad "kill -9 of process $victim: the job exited 0"
  fi
  if "$bin/dinornn-eval" -c "$dir/latest.ckpt" --data "$data" >"$dir.eval" 2>&1; then
    ok "after kill -9 of process $victim the last checkpoint loads"
  else
    bad "after kill -9 of process $victim: $(head -c 300 "$dir.eval")"
  fi
done

# --- SIGHUP to one process (a closed terminal, whatever the launcher
# passes on): SIGTERM's case, every process stops after the same
# mini-batch, one checkpoint, which resumes to one process's bytes ---
dir=$tmp/hup
"$mpirun" -np 2 "${sm[@]}" "$train" "${long[@]}" --threads 1 --checkpoint-dir "$dir" >"$dir.out" 2>"$dir.err" &
pid=$!
target=$(process_of 1 "$dir")
if [ -z "$target" ]; then
  bad "SIGHUP to process 1: could not find it"
  kill -TERM "$pid" 2>/dev/null
  wait "$pid"
else
  kill -HUP "$target"
  status=0
  wait "$pid" || status=$?
  if [ "$status" -ne 0 ] && [ "$(grep -c 'interrupted by SIGHUP' "$dir.err")" -eq 1 ]; then
    ok "SIGHUP to process 1: status $status, one 'interrupted by SIGHUP' report"
  else
    bad "SIGHUP to process 1: status $status; $(head -c 400 "$dir.err")"
  fi
  e=$(sed -n 's/.*during epoch \([0-9]*\) .*/\1/p' "$dir.err")
  if "$mpirun" -np 2 "${sm[@]}" "$train" "${long[@]}" --resume --quiet --threads 1 --epochs "${e:-1}" \
    --checkpoint-dir "$dir" >"$dir.out2" 2>&1 &&
    "$train" "${long[@]}" --quiet --threads 2 --epochs "${e:-1}" --checkpoint-dir "$tmp/hupref" >/dev/null 2>&1 &&
    cmp -s "$tmp/hupref/latest.ckpt" "$dir/latest.ckpt"; then
    ok "stopped by SIGHUP, resumed to finish epoch $e: one process's bytes"
  else
    bad "the run resumed after SIGHUP differs from one process's: $(head -c 400 "$dir.out2")"
  fi
fi

# --- processes that read other names are refused ---
head -300 "$data" >"$tmp/other.txt"
status=0
"$mpirun" "${sm[@]}" -np 1 "$train" "${small[@]}" --checkpoint-dir "$tmp/mismatch" : \
  -np 1 "$train" "${small[@]}" --data "$tmp/other.txt" --checkpoint-dir "$tmp/mismatch" \
  >"$tmp/mismatch.out" 2>"$tmp/mismatch.err" || status=$?
if [ "$status" -ne 0 ] && grep -q "process 1 of the MPI job has other training names than process 0" "$tmp/mismatch.err"; then
  ok "a process that read other names is refused (status $status)"
else
  bad "other names on process 1: status $status; $(head -c 400 "$tmp/mismatch.err")"
fi

finish

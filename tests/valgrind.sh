#!/usr/bin/env bash
# valgrind.sh (make check-valgrind): the programs' main paths and error paths
# under valgrind memcheck; any error or definite leak fails.
. "${top_srcdir:-.}/tests/cli-lib.sh"
vg=("$top_builddir/libtool" --mode=execute valgrind -q --error-exitcode=99 --leak-check=full
    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect)
# run STATUS DESCRIPTION -- COMMAND...: valgrind finds nothing, the status is as expected.
run() {
  local want=$1 what=$2
  shift 3
  local got=0
  "${vg[@]}" "$@" >"$tmp/out" 2>"$tmp/err" || got=$?
  if [ "$got" -eq 99 ]; then bad "$what: valgrind: $(head -c 600 "$tmp/err")"
  elif [ "$got" -ne "$want" ]; then bad "$what: exit status $got, expected $want: $(head -c 300 "$tmp/err")"
  else ok "$what"; fi
}
head -n 300 "$data" > "$tmp/names.txt"
T=$bin/dinornn-train S=$bin/dinornn-sample E=$bin/dinornn-eval
run 0 "train" -- "$T" --data "$tmp/names.txt" --cell lstm --layers 2 --hidden 8 --epochs 2 --dropout 0.1 --samples 2 -c "$tmp/ck" --log "$tmp/log"
run 0 "resume" -- "$T" --resume --epochs 3 -c "$tmp/ck" --samples 1
run 0 "sample" -- "$S" -c "$tmp/ck/latest.ckpt" --count 5 --prefix ab --top-k 3
run 0 "exact search (--best)" -- "$S" -c "$tmp/ck/latest.ckpt" --best 4 --format json
run 0 "novel names" -- "$S" -c "$tmp/ck/latest.ckpt" --novel --count 3
run 0 "score" -- "$S" -c "$tmp/ck/latest.ckpt" --score Aardonyx Zz
run 0 "eval" -- "$E" -c "$tmp/ck/latest.ckpt" --split val --format json
run 1 "missing data" -- "$T" --data "$tmp/none.txt" -c "$tmp/x"
head -c 500 "$tmp/ck/latest.ckpt" > "$tmp/cut.ckpt"
run 1 "truncated checkpoint" -- "$S" -c "$tmp/cut.ckpt"
run 2 "bad option" -- "$T" --layers 17
run 2 "unknown prefix symbol" -- "$S" -c "$tmp/ck/latest.ckpt" --prefix "a9"
printf 'ok\nbad\xff\n' > "$tmp/bad.txt"
run 1 "invalid UTF-8" -- "$E" -c "$tmp/ck/latest.ckpt" --data "$tmp/bad.txt"
X=$bin/dinornn-export I=$bin/dinornn-import
run 0 "export safetensors" -- "$X" "$tmp/ck/latest.ckpt" -o "$tmp/m.safetensors"
run 0 "export ONNX" -- "$X" "$tmp/ck/latest.ckpt" -o "$tmp/m.onnx"
run 0 "import" -- "$I" "$tmp/m.safetensors" -o "$tmp/m.ckpt"
head -c 900 "$tmp/m.safetensors" > "$tmp/cut.safetensors"
run 1 "truncated safetensors" -- "$I" "$tmp/cut.safetensors" -o "$tmp/from-cut.ckpt"
finish

#!/usr/bin/env bash
# cli-web.sh: the web page's dinornn-sample (make web: WebAssembly, run by
# web/dinornn-core.js as web/worker.js runs it) against the native program
# in node: the same exit status and output bytes, and the same messages, for
# --best under every constraint, sampling, --score, labels, --novel and the
# errors. Skips without emscripten or node.
. "${top_srcdir:-.}/tests/cli-lib.sh"
node=${NODE:-}
if [ -z "${EMCC:-}" ]; then
  echo "cli-web: skipped: no emscripten (emcc) when ./configure ran (apt-get install emscripten node-acorn)"
  exit 77
fi
if [ -z "$node" ]; then
  echo "cli-web: skipped: no node when ./configure ran (apt-get install nodejs)"
  exit 77
fi
# The module only (no default model: tests train their own, smaller ones).
if ! make -C "$top_builddir" web/dinornn.js web-page > "$tmp/make.out" 2>&1; then
  cat "$tmp/make.out"
  echo "cli-web: skipped: web/dinornn.js cannot be built here (output above)"
  exit 77
fi
web=$top_builddir/web
[ -f "$web/dinornn-core.js" ] || web=$top_srcdir/web

train() { # DIR DATA OPTION...: a small model in DIR
  local dir=$1 data_=$2
  shift 2
  "$bin/dinornn-train" --data "$data_" --checkpoint-dir "$dir" --hidden 24 --epochs 4 --quiet \
    --samples 0 "$@" > "$tmp/train.out" 2>&1 || { cat "$tmp/train.out"; echo "training failed"; exit 1; }
}
# A mixture of two on the dinosaurs; one labeled model; one
# of Unicode names that keeps case, and one that lowercases them.
train "$tmp/dinos" "$data" --members 2
awk '{ print $0 "\t" (/saurus$/ ? "saurus" : "other") }' "$data" > "$tmp/lab.txt"
train "$tmp/labeled" "$tmp/lab.txt" --members 1
{ head -300 "$data"
  printf '%s\n' "ǆemal" "ǉubica" "Łukasz" "Éloïse" "søren" "jean-luc" "o'neil" "straße" "ﬁona" \
    "Ζωή Σας" "άλφα βήτα" "σοφοσ" "ᾳδης" "იაკობ" "mcdonald" "Ǳenan" "éva" "ölaf"
} > "$tmp/uni.txt"
train "$tmp/unicode" "$tmp/uni.txt" --members 1
train "$tmp/cased" "$tmp/uni.txt" --members 1 --keep-case
head -c 2000 "$tmp/dinos/best.ckpt" > "$tmp/truncated.ckpt"
cp "$tmp/dinos/best.ckpt" "$tmp/flipped.ckpt"
printf 'x' | dd of="$tmp/flipped.ckpt" bs=1 seek=3000 conv=notrunc 2>/dev/null
printf 'not a checkpoint\n' > "$tmp/text.ckpt"

D=$tmp/dinos/best.ckpt L=$tmp/labeled/best.ckpt U=$tmp/unicode/best.ckpt C=$tmp/cased/best.ckpt
cases=$tmp/cases.json
{
  for p in a t tyr q; do echo "{\"model\":\"$D\",\"args\":[\"--best\",\"10\",\"--prefix\",\"$p\"]}"; done
  cat <<JSON
{"model":"$D","args":["--best","10","--prefix","t","--format","json"]}
{"model":"$D","args":["--best","5","--suffix","saurus","--format","json"]}
{"model":"$D","args":["--best","5","--contains","on","--contains","ra","--exclude","xq","--max-expansions","20000"]}
{"model":"$D","args":["--best","5","--pattern","[a-c]??*s","--min-length","5","--max-length","9"]}
{"model":"$D","args":["--best","3","--prefix","ab","--suffix","us","--min-length","6"]}
{"model":"$D","args":["--best","5","--novel","--prefix","a"],"names":"$data"}
{"model":"$D","args":["--count","10","--novel","--seed","3"],"names":"$data"}
{"model":"$D","args":["--count","8","--seed","42","-t","0.7","-k","5"]}
{"model":"$D","args":["-n","5","-s","9","--prefix","ste","--temperature","1.5"]}
{"model":"$D","args":["--count","4","--seed","5","--suffix","us","--format","json"]}
{"model":"$D","args":["--score","Tyrannosaurus","Velociraptor","a","--format","json"]}
{"model":"$D","args":["--score","--suffix","saurus","Stegosaurus","Tyr"]}
{"model":"$D","args":["--best","10","--max-expansions","20"],"expect_err":["max-expansions"]}
{"model":"$D","args":["--best","5","--max-expansions","3","--format","json"]}
{"model":"$D","args":["--best","5","--prefix","t1x"]}
{"model":"$D","args":["--score","Ǆemal"]}
{"model":"$D","args":["--best","5","--suffix","aa","--pattern","*b"]}
{"model":"$D","args":["--best","5","--max-length","3","--min-length","4"]}
{"model":"$D","args":["--best","5","--bogus"]}
{"model":"$D","args":["--label","x"]}
{"model":"$D","args":["--help"]}
{"model":"$D","args":["--version"]}
{"model":"$L","args":["--best","5","--label","saurus","--prefix","a","--format","json"]}
{"model":"$L","args":["--best","5","--label","other"]}
{"model":"$L","args":["--count","6","--seed","7","--format","json"]}
{"model":"$L","args":["--classify","Stegosaurus","Bob","--format","json"]}
{"model":"$L","args":["--score","--label","saurus","Stegosaurus"]}
{"model":"$L","args":["--best","3","--label","nope"]}
{"model":"$U","args":["--best","20","--min-length","4","--format","json"]}
{"model":"$U","args":["--count","30","--seed","11","-t","2"]}
{"model":"$U","args":["--best","5","--prefix","Ǆ"]}
{"model":"$U","args":["--best","5","--prefix","ΖΩ"]}
{"model":"$U","args":["--best","5","--prefix","ᾳ"]}
{"model":"$U","args":["--best","5","--prefix","ი"]}
{"model":"$U","args":["--best","5","--prefix","ﬁ","--exclude","z"]}
{"model":"$U","args":["--score","Ǆemal","E\u0301loi\u0308se","ΣΟΦΟΣ","Straße","jean-luc","o'neil","σας","--format","json"]}
{"model":"$U","args":["--score","Zoë","日本"]}
{"model":"$C","args":["--best","10","--prefix","Ζ"]}
{"model":"$C","args":["--count","20","--seed","2","-t","1.5"]}
{"model":"$C","args":["--score","Łukasz","łukasz","E\u0301va"]}
{"model":"$tmp/truncated.ckpt","load":"fails"}
{"model":"$tmp/flipped.ckpt","load":"fails"}
{"model":"$tmp/text.ckpt","load":"fails"}
JSON
} > "$cases"
"$node" "$top_srcdir/tests/cli-web.js" "$bin/dinornn-sample" "$web" "$cases"

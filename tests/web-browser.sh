#!/usr/bin/env bash
# web-browser.sh: the web page (make web; docs/web.md) in a real browser:
# Debian's chromium driven by playwright-core (tests/web-browser.js). It
# types a prefix and checks the list shown against dinornn-sample --best
# --format json on the same checkpoint, name for name and score for score;
# the same for a suffix, a label, a seeded sample and a scored name (letter
# by letter); a damaged checkpoint shows the command line's message; a
# screenshot is saved (tests/web-screenshot.png in the build) and looked at.
# Skipped (77) without emscripten, chromium or playwright-core.
. "${top_srcdir:-.}/tests/cli-lib.sh"
node=${NODE:-node}
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ -z "${EMCC:-}" ]; then
  echo "SKIP: no emscripten (apt-get install emscripten node-acorn; scripts/bootstrap does)"; exit 77
fi
if [ ! -x "$chromium" ]; then
  echo "SKIP: no chromium at $chromium (apt-get install chromium)"; exit 77
fi
if ! "$node" -e 'require.resolve("playwright-core")' 2>/dev/null; then
  echo "SKIP: node cannot load playwright-core from NODE_PATH=${NODE_PATH:-} (scripts/bootstrap installs it)"; exit 77
fi
make -s -C "$top_builddir" web/dinornn.js >/dev/null || { bad "make web/dinornn.js"; finish; exit 1; }

# The models: a small one as the page's default, a labeled one, a damaged one.
ck=$tmp/ck
"$bin/dinornn-train" --data "$data" --hidden 16 --layers 1 --epochs 2 --members 1 --samples 0 \
  --quiet --checkpoint-dir "$ck" || { bad "training"; finish; exit 1; }
awk '{ print $0 "\t" (/saurus$/ ? "saurus" : "other") }' "$data" > "$tmp/labeled.txt"
"$bin/dinornn-train" --data "$tmp/labeled.txt" --hidden 16 --layers 1 --epochs 2 --members 1 \
  --samples 0 --quiet --checkpoint-dir "$tmp/lab" || { bad "labeled training"; finish; exit 1; }
exp=$tmp/expect
mkdir -p "$exp"
cp "$tmp/lab/best.ckpt" "$exp/labeled.ckpt"
head -c 1000 "$ck/best.ckpt" > "$exp/damaged.ckpt"

# What dinornn-sample answers on the same checkpoints.
s=$bin/dinornn-sample
"$s" -c "$ck/best.ckpt" --format=json --best=10 --prefix=ty > "$exp/best-ty.json"
"$s" -c "$ck/best.ckpt" --format=json --best=5 --suffix=rus > "$exp/best-rus.json"
"$s" -c "$ck/best.ckpt" --format=json --count=5 --temperature=0.8 --seed=7 > "$exp/sample.json"
"$s" -c "$ck/best.ckpt" --format=json --score -- tyrannosaurus > "$exp/score.json"
"$s" -c "$exp/labeled.ckpt" --format=json --best=10 --prefix=a --label=saurus > "$exp/best-label.json"
# The message of a damaged checkpoint, without the program's name and the path.
"$s" -c "$exp/damaged.ckpt" --best 1 2>&1 >/dev/null | sed 's/^[^:]*: [^:]*: //' > "$exp/damaged.err"
[ -s "$exp/damaged.err" ] || bad "dinornn-sample said nothing of a damaged checkpoint"

# The site: the page's files, the module, the small model as its default.
site=$tmp/site
mkdir -p "$site"
for f in index.html app.js style.css worker.js dinornn-core.js; do cp "$top_srcdir/web/$f" "$site/"; done
cp "$top_builddir/web/dinornn.js" "$site/"
cp "$ck/best.ckpt" "$site/model.ckpt"
cp "$data" "$site/dinos.txt"
shot=$top_builddir/tests/web-screenshot.png
if "$node" "$top_srcdir/tests/web-browser.js" "$site" "$exp" "$shot" > "$tmp/browser.log" 2>&1; then
  cat "$tmp/browser.log"
  ok "the page in chromium"
else
  cat "$tmp/browser.log"
  bad "the page in chromium"
fi
finish

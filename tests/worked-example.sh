#!/usr/bin/env bash
# worked-example.sh: docs/worked-example.md holds examples/worked-example's
# output verbatim between its marker lines; this test fails if the two
# differ (the doc cannot drift from the code) or if the program fails (it
# exits 1 when a gradient disagrees with central differences of its loss).
# With --update (make update-worked-example) it writes the output into the
# doc instead.
. "${top_srcdir:-.}/tests/cli-lib.sh"
doc=$top_srcdir/docs/worked-example.md
begin='<!-- worked-example:begin -->'
end='<!-- worked-example:end -->'

if ! "$bin/examples/worked-example" >"$tmp/out" 2>"$tmp/err"; then
  bad "examples/worked-example failed: $(head -c 300 "$tmp/err")"
  finish
  exit 1
fi
if [ "$(grep -cxF "$begin" "$doc")" -ne 1 ] || [ "$(grep -cxF "$end" "$doc")" -ne 1 ]; then
  bad "$doc needs one line '$begin' and, after it, one line '$end'"
  finish
  exit 1
fi

if [ "${1:-}" = --update ]; then
  awk -v out="$tmp/out" -v b="$begin" -v e="$end" '
    $0 == e { skip = 0 }
    !skip { print }
    $0 == b { while ((getline line < out) > 0) print line; skip = 1 }' "$doc" >"$tmp/doc"
  cp "$tmp/doc" "$doc"
  echo "wrote examples/worked-example's output into $doc"
  exit 0
fi

awk -v b="$begin" -v e="$end" '$0 == e { inside = 0 } inside { print } $0 == b { inside = 1 }' \
  "$doc" >"$tmp/block"
if [ -s "$tmp/block" ] && cmp -s "$tmp/out" "$tmp/block"; then
  ok "docs/worked-example.md shows examples/worked-example's output ($(wc -l <"$tmp/out") lines)"
else
  bad "docs/worked-example.md differs from examples/worked-example (make update-worked-example):"
  diff "$tmp/block" "$tmp/out" | head -20
fi
if [ "$(grep -c "agrees with central differences" "$tmp/out")" -eq 3 ]; then
  ok "the gradients of the three cells passed their check"
else
  bad "the output does not report the check of the three cells' gradients"
fi
finish

# cli-lib.sh: shared helpers for the command-line tests (sourced, not run).
set -u
top_builddir=${top_builddir:-.}
top_srcdir=${top_srcdir:-.}
bin=$top_builddir
data=$top_srcdir/data/dinos.txt
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dinornn-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); printf 'ok   %s\n' "$*"; }
bad() { failed=$((failed + 1)); printf 'FAIL %s\n' "$*"; }

# expect STATUS PATTERN DESCRIPTION -- COMMAND...: the command exits with
# STATUS and its stderr matches the extended regex PATTERN.
expect() {
  local want=$1 pattern=$2 what=$3
  shift 4
  local got=0
  "$@" >"$tmp/out" 2>"$tmp/err" || got=$?
  if [ "$got" -ne "$want" ]; then
    bad "$what: exit status $got, expected $want; stderr: $(head -c 300 "$tmp/err")"
  elif [ -n "$pattern" ] && ! grep -Eq -- "$pattern" "$tmp/err"; then
    bad "$what: stderr does not match /$pattern/: $(head -c 300 "$tmp/err")"
  else
    ok "$what"
  fi
}

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

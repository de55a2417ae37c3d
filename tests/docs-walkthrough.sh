#!/bin/sh
# docs/walkthrough.md: every file and function it names exists, every
# command it shows runs, and the output it shows is the command's.
top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
exec python3 "$top_srcdir/tests/docs-walkthrough.py" "$top_srcdir" "$top_builddir"

#!/usr/bin/env python3
"""docs-walkthrough.py: docs/walkthrough.md cannot drift from the code.

Every path it names in backticks or as an image exists; every function it
names as `name()` is defined in a file that the same paragraph names (or,
when the paragraph names none, anywhere in src/ or examples/); every
command of its ```sh blocks runs and exits 0; and the output it shows
between the walkthrough-output markers is what the command before it
prints: the first line exactly, every other shown line with its numbers
masked (speeds and times vary), the final best loss within 0.02 (builds
with other kernels may round differently).

Usage: docs-walkthrough.py SRCDIR BUILDDIR [DOC]"""
import os
import re
import shlex
import subprocess
import sys
import tempfile

PATH_RE = re.compile(r'^(?:src|examples|tests|docs|scripts|include|data)/[\w./-]+$')
FUNC_RE = re.compile(r'`([A-Za-z_]\w*)\(\)`')
TICK_RE = re.compile(r'`([^`\n]+)`')
IMAGE_RE = re.compile(r'!\[[^\]]*\]\(([^)]+)\)')

failures = []


def fail(msg):
    failures.append(msg)
    print('FAIL ' + msg)


def paragraphs(text):
    """Paragraphs outside fenced code blocks, with their first line number."""
    out, cur, start, fenced = [], [], 0, False
    for n, line in enumerate(text.split('\n'), 1):
        if line.startswith('```'):
            fenced = not fenced
            continue
        if fenced:
            continue
        if line.strip() == '':
            if cur:
                out.append((start, ' '.join(cur)))
            cur = []
        else:
            if not cur:
                start = n
            cur.append(line.strip())
    if cur:
        out.append((start, ' '.join(cur)))
    return out


def defines(path, name):
    """Whether the C file defines function (or function-like macro) name."""
    pat = re.compile(r'^(?:[A-Za-z_][\w \t*]*[\s*])?' + re.escape(name) + r'\s*\(')
    macro = re.compile(r'^#\s*define\s+' + re.escape(name) + r'\b')
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    for i, line in enumerate(lines):
        if macro.match(line):
            return True
        if line[:1].isspace() or not pat.match(line) or line.rstrip().endswith(';'):
            continue
        # A definition: the body follows (possibly after wrapped parameters).
        for nxt in lines[i:i + 8]:
            if nxt.rstrip().endswith(';'):
                break
            if '{' in nxt:
                return True
    return False


def c_files(srcdir):
    for top in ('src', 'examples', 'include'):
        for root, _, files in os.walk(os.path.join(srcdir, top)):
            for f in files:
                if f.endswith(('.c', '.h')):
                    yield os.path.join(root, f)


def check_names(srcdir, doc, text):
    docdir = os.path.dirname(doc)
    checked = 0
    for line, para in paragraphs(text):
        paths = [t for t in TICK_RE.findall(para) if PATH_RE.match(t)]
        for p in paths:
            checked += 1
            if not os.path.exists(os.path.join(srcdir, p)):
                fail('%s:%d: names %s, which does not exist' % (doc, line, p))
        for img in IMAGE_RE.findall(para):
            checked += 1
            if not os.path.exists(os.path.join(docdir, img)):
                fail('%s:%d: shows %s, which does not exist' % (doc, line, img))
        cfiles = [os.path.join(srcdir, p) for p in paths if p.endswith(('.c', '.h'))]
        for name in FUNC_RE.findall(para):
            checked += 1
            where = [f for f in cfiles if os.path.exists(f)] or list(c_files(srcdir))
            if not any(defines(f, name) for f in where):
                fail('%s:%d: %s() is defined in none of %s' % (
                    doc, line, name, ', '.join(os.path.relpath(f, srcdir) for f in cfiles)
                    if cfiles else 'src/, examples/, include/'))
    print('ok   %d paths and functions named' % checked)


def scratch_dir(srcdir, builddir):
    """A directory to run the doc's commands in, as from a built tree."""
    d = tempfile.mkdtemp(prefix='dinornn-walkthrough.')
    os.symlink(os.path.join(srcdir, 'data'), os.path.join(d, 'data'))
    os.mkdir(os.path.join(d, 'examples'))
    built = os.path.join(builddir, 'examples')
    for prog in os.listdir(built) if os.path.isdir(built) else []:
        full = os.path.join(builddir, 'examples', prog)
        if os.access(full, os.X_OK) and os.path.isfile(full):
            os.symlink(full, os.path.join(d, 'examples', prog))
    for prog in ('dinornn-train', 'dinornn-sample', 'dinornn-eval'):
        os.symlink(os.path.join(builddir, prog), os.path.join(d, prog))
    return d


def masked(line):
    return re.sub(r'[0-9]+(?:\.[0-9]+)?', 'N', line)


def check_output(doc, shown, got):
    shown = [l for l in shown if l.strip() not in ('...',) and 'samples:' not in l]
    lines = got.rstrip('\n').split('\n')
    if not lines or lines[0] != shown[0]:
        fail('%s: the first line shown differs from what the command prints:\n  doc: %s\n  got: %s'
             % (doc, shown[0], lines[0] if lines else ''))
        return
    for want in shown[1:]:
        if not any(masked(l) == masked(want) for l in lines):
            fail('%s: no printed line has the shape of %r' % (doc, want))
    best = re.compile(r'best validation loss ([0-9.]+)')
    w = [float(m.group(1)) for m in map(best.search, shown) if m]
    g = [float(m.group(1)) for m in map(best.search, lines) if m]
    if w and (not g or abs(w[-1] - g[-1]) > 0.02):
        fail('%s: best validation loss %s shown, %s printed' % (doc, w[-1], g[-1] if g else None))
    print('ok   the output shown matches the command\'s')


def check_commands(srcdir, builddir, doc, text):
    d = scratch_dir(srcdir, builddir)
    blocks = re.findall(r'```sh\n(.*?)```(.*?)(?=```sh|\Z)', text, re.S)
    ran = 0
    for body, after in blocks:
        for cmd in [c for c in body.split('\n') if c.strip() and not c.startswith('#')]:
            argv = shlex.split(cmd)
            try:
                r = subprocess.run(argv, cwd=d, capture_output=True, text=True, timeout=300)
            except (OSError, subprocess.TimeoutExpired) as e:
                fail('%s: `%s` did not run: %s' % (doc, cmd, e))
                continue
            ran += 1
            if r.returncode != 0:
                fail('%s: `%s` exited %d: %s' % (doc, cmd, r.returncode, r.stderr[-500:]))
                continue
            print('ok   ran: %s' % cmd)
            m = re.search(r'<!-- walkthrough-output:begin -->\n```\n(.*?)```\n'
                          r'<!-- walkthrough-output:end -->', after, re.S)
            if m:
                check_output(doc, m.group(1).rstrip('\n').split('\n'), r.stdout + r.stderr)
    if ran == 0:
        fail('%s: no command found to run' % doc)
    subprocess.run(['rm', '-rf', d])


def main():
    srcdir, builddir = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    doc = sys.argv[3] if len(sys.argv) > 3 else os.path.join(srcdir, 'docs', 'walkthrough.md')
    with open(doc, encoding='utf-8') as f:
        text = f.read()
    check_names(srcdir, doc, text)
    check_commands(srcdir, builddir, doc, text)
    print('%d failed' % len(failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())

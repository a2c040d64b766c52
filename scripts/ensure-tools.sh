#!/bin/sh
# perfloop runs every set-up, test and benchmark inside bubblewrap (README, "Safety"), its test suite
# attacks that sandbox for real and counts instructions with valgrind (benchmark.measure:
# instructions), so `npm test` and `npm run example` start here: bubblewrap, prlimit (util-linux) and
# valgrind must be on the machine. With the argument `torch` (npm test) some python3 must also import
# torch — the one on PATH (a virtualenv) or Debian's /usr/bin/python3, the two examples/mlpeval/python.sh
# tries — because the suite runs the PyTorch example and perfloop's torch.profiler hook on CPU
# (README, "GPU programs"). As root (CI, containers) what is missing is installed with apt-get
# (python3-torch is about 1 GB); anyone else gets the one line that installs it.
set -eu
missing=""
command -v bwrap >/dev/null 2>&1 || missing="bubblewrap"
command -v prlimit >/dev/null 2>&1 || missing="$missing util-linux"
command -v valgrind >/dev/null 2>&1 || missing="$missing valgrind"
if [ "${1:-}" = torch ]; then
  torch=""
  for py in python3 /usr/bin/python3; do
    if "$py" -c "import importlib.util as u, sys; sys.exit(u.find_spec('torch') is None)" 2>/dev/null; then torch=yes; fi
  done
  [ -n "$torch" ] || missing="$missing python3-torch"
fi
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "perfloop: installing$missing with apt-get" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >&2
  exit 0
fi
echo "perfloop: missing$missing; install with: sudo apt-get install -y$missing" >&2
exit 1

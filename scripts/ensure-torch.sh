#!/bin/sh
# The test suite runs the PyTorch example (examples/mlpeval) and perfloop's torch.profiler hook on
# CPU (README, "GPU programs"), so `npm test` starts here: some python3 must import torch — the one
# on PATH (a virtualenv with `pip install torch`) or Debian's /usr/bin/python3 with python3-torch,
# the two examples/mlpeval/python.sh tries. As root (CI, containers) Debian's package is installed
# with apt-get; anyone else gets the one line that installs it.
set -eu
for py in python3 /usr/bin/python3; do
  if "$py" -c "import importlib.util as u, sys; sys.exit(u.find_spec('torch') is None)" 2>/dev/null; then exit 0; fi
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "perfloop: installing python3-torch with apt-get (the PyTorch example's tests run on CPU)" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch >&2
  exit 0
fi
echo "perfloop: no python3 here imports torch; install it with: sudo apt-get install -y python3-torch (or pip install torch)" >&2
exit 1

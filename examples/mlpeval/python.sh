#!/bin/sh
# Runs the first python3 that can import torch: the one on PATH (a virtualenv with `pip install torch`),
# else the system's /usr/bin/python3 (Debian/Ubuntu: apt-get install python3-torch).
for py in python3 /usr/bin/python3; do
  if "$py" -c "import importlib.util as u, sys; sys.exit(u.find_spec('torch') is None)" 2>/dev/null; then exec "$py" "$@"; fi
done
echo "mlpeval needs PyTorch: pip install torch, or sudo apt-get install python3-torch" >&2
exit 127

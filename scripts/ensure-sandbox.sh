#!/bin/sh
# perfloop runs every set-up, test and benchmark inside bubblewrap (README, "Safety"), and its test
# suite attacks that sandbox for real, so `npm test` and `npm run example` start here: bubblewrap and
# prlimit must be on the machine. As root (CI, containers) they are installed with apt-get; anyone
# else gets the one line that installs them.
set -eu
missing=""
command -v bwrap >/dev/null 2>&1 || missing="bubblewrap"
command -v prlimit >/dev/null 2>&1 || missing="$missing util-linux"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "perfloop: installing$missing with apt-get (the sandbox needs it)" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >&2
  exit 0
fi
echo "perfloop: the sandbox needs$missing; install it with: sudo apt-get install -y$missing" >&2
exit 1

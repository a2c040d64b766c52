#!/bin/sh
# perfloop runs every set-up, test and benchmark inside bubblewrap (README, "Safety"), its test suite
# attacks that sandbox for real and counts instructions with valgrind (benchmark.measure:
# instructions), so `npm test` and `npm run example` start here: bubblewrap, prlimit (util-linux) and
# valgrind must be on the machine. As root (CI, containers) they are installed with apt-get; anyone
# else gets the one line that installs them.
set -eu
missing=""
command -v bwrap >/dev/null 2>&1 || missing="bubblewrap"
command -v prlimit >/dev/null 2>&1 || missing="$missing util-linux"
command -v valgrind >/dev/null 2>&1 || missing="$missing valgrind"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "perfloop: installing$missing with apt-get" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >&2
  exit 0
fi
echo "perfloop: missing$missing; install with: sudo apt-get install -y$missing" >&2
exit 1

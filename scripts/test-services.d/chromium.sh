#!/usr/bin/env bash
# A browser for the real-browser tests (tests/browser): Debian's chromium at /usr/bin/chromium,
# driven by Playwright, which never downloads browsers of its own here. Safe to run again. Where
# it cannot be installed this says why and exits 0: the browser tests skip, the rest still run.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium: apt-get is not available; install chromium by hand for tests/browser" >&2
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "chromium: installing it needs root: sudo apt-get install chromium" >&2
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; } >"$log" 2>&1
then
  tail -n 20 "$log" >&2
  echo "chromium: apt-get could not install it; tests/browser will be skipped" >&2
  exit 0
fi
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo installed)"

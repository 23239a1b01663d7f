#!/usr/bin/env bash
# Chromium for the explorer's browser test (tests/test_explorer.py): Debian's package, installed here when
# missing and we are root. Never fails: without Chromium that one test is skipped and says why.
set -uo pipefail
if command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium (for the explorer's browser test)"
  if (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium) >/dev/null 2>&1; then
    exit 0
  fi
fi
echo "Chromium is not installed and could not be (not root, or no apt-get): the explorer's browser test will be skipped" >&2
exit 0

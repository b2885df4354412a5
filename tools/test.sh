#!/usr/bin/env bash
# Runs every test on a fresh Debian 12 machine: installs missing packages, builds, then
# `meson test` (GUI tests under a virtual X server). Extra arguments go to `meson test`.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
. tools/env.sh
tools/build.sh
xvfb-run -a -s "-screen 0 1600x1000x24" meson test -C build --print-errorlogs "$@"

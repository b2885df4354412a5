#!/usr/bin/env bash
# Runs every test on a fresh Debian 12 machine: installs missing packages, builds, then
# `meson test` (GUI tests under a virtual X server). Extra arguments go to `meson test`.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
. tools/env.sh
tools/build.sh
# GUI tests start their own virtual X server (xvfb-run) from meson.
meson test -C build --print-errorlogs "$@"

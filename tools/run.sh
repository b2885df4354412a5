#!/usr/bin/env bash
# Runs the workbench on a fresh Debian 12 machine: installs missing packages, builds, then opens
# `mbold` (under a virtual X server when there is no display). Arguments go to mbold.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
. tools/env.sh
tools/build.sh
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "no display: running the workbench under xvfb-run (screenshots: mbold --screenshot)" >&2
  exec xvfb-run -a -s "-screen 0 1600x1000x24" build/app/mbold "$@"
fi
exec build/app/mbold "$@"

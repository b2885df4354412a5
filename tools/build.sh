#!/usr/bin/env bash
# Configures (once) and builds into ./build. Extra arguments go to `meson setup` the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
  meson setup build "$@" >/dev/null
fi
ninja -C build >/dev/null || ninja -C build

#!/usr/bin/env bash
# Builds the project with -Db_sanitize=address,undefined into ./build-asan and runs the unit suite
# (everything that needs no display) there.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
. tools/env.sh
if [ ! -f build-asan/build.ninja ]; then
  meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C build-asan >/dev/null || ninja -C build-asan
# Leaks inside the GPU/GL drivers (Mesa, LLVM) are not ours: tools/lsan.supp names them.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:${ASAN_OPTIONS:-}"
export LSAN_OPTIONS="suppressions=$PWD/tools/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# The 'slow' tests train networks until they reach a quality bar: minutes under the sanitizers and
# no code path that the other trainer tests do not already run there. They run in the plain build.
meson test -C build-asan --suite unit --no-suite slow --print-errorlogs "$@"

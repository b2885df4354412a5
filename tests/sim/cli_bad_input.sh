#!/usr/bin/env bash
# Every bad input of `mbold collect`, `mbold dataset stats` and `mbold goals` is one line on stderr
# and exit code 2, and leaves existing files untouched; `mbold info` reports the Mesa CPU drivers'
# thread count that headless jobs run with. Usage: cli_bad_input.sh PATH/TO/mbold
set -u
mbold="$1"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0

# expect_bad DESCRIPTION WORD -- COMMAND...: exit code 2, one stderr line containing WORD.
expect_bad() {
  local what="$1" word="$2"
  shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$? lines
  lines=$(wc -l <"$tmp/err")
  if [ "$rc" -ne 2 ] || [ "$lines" -ne 1 ] || ! grep -q -- "$word" "$tmp/err"; then
    echo "FAIL: $what: exit $rc, $lines stderr line(s), wanted 2 / 1 line with '$word':" >&2
    cat "$tmp/err" >&2
    failures=$((failures + 1))
  fi
}

c="$tmp/c.h5"
expect_bad "unknown task" "unknown task 'pushx'" -- "$mbold" collect --task pushx --episodes 2 --out "$c"
expect_bad "zero episodes" "--episodes must be positive" -- "$mbold" collect --task push1 --episodes 0 --out "$c"
expect_bad "negative episodes" "--episodes must be positive" -- "$mbold" collect --task push1 --episodes -3 --out "$c"
expect_bad "negative seed" "--seed" -- "$mbold" collect --task push1 --episodes 2 --seed -1 --out "$c"
expect_bad "negative threads" "--threads" -- "$mbold" collect --task push1 --episodes 2 --threads -2 --out "$c"
expect_bad "not a number" "episodes" -- "$mbold" collect --task push1 --episodes many --out "$c"
expect_bad "missing --out" "--out" -- "$mbold" collect --task push1 --episodes 2
expect_bad "unwritable folder" "/nonexistent-folder" -- "$mbold" collect --task push1 --episodes 2 --out /nonexistent-folder/x.h5
[ -e "$c" ] && { echo "FAIL: a bad input created $c" >&2; failures=$((failures + 1)); }

mkdir -p "$tmp/empty" "$tmp/bad/scenes"
expect_bad "missing MJCF" "scenes/push1.xml: scene file not found" -- env MBOLD_ASSETS="$tmp/empty" "$mbold" collect --task push1 --episodes 2 --out "$c"
echo '<mujoco><worldbody><body></mujoco>' >"$tmp/bad/scenes/door.xml"
expect_bad "malformed MJCF" "door.xml: malformed MJCF" -- env MBOLD_ASSETS="$tmp/bad" "$mbold" collect --task door --episodes 2 --out "$c"
expect_bad "no EGL" "EGL" -- env __EGL_VENDOR_LIBRARY_FILENAMES=/nonexistent EGL_PLATFORM=none "$mbold" collect --task reach --episodes 2 --out "$c"
[ -e "$c" ] && { echo "FAIL: a bad input created $c" >&2; failures=$((failures + 1)); }

# an existing file is never overwritten without --force, and --resume checks the seed
echo "precious" >"$tmp/exists.h5"
expect_bad "existing output" "file exists" -- "$mbold" collect --task reach --episodes 2 --out "$tmp/exists.h5"
grep -q precious "$tmp/exists.h5" || { echo "FAIL: existing file was touched" >&2; failures=$((failures + 1)); }
expect_bad "resume a foreign file" "not an HDF5 file" -- "$mbold" collect --task reach --episodes 2 --out "$tmp/exists.h5" --resume
grep -q precious "$tmp/exists.h5" || { echo "FAIL: existing file was touched" >&2; failures=$((failures + 1)); }
"$mbold" collect --task reach --episodes 2 --seed 3 --threads 1 --out "$tmp/ok.h5" >/dev/null 2>&1 || { echo "FAIL: small collection failed" >&2; failures=$((failures + 1)); }
expect_bad "resume with another seed" "seed differs" -- "$mbold" collect --task reach --episodes 4 --seed 4 --out "$tmp/ok.h5" --resume
expect_bad "resume with another task" "task differs" -- "$mbold" collect --task push1 --episodes 4 --seed 3 --out "$tmp/ok.h5" --resume

# dataset stats
head -c 2000 "$tmp/ok.h5" >"$tmp/trunc.h5"
expect_bad "truncated HDF5" "trunc.h5" -- "$mbold" dataset stats "$tmp/trunc.h5"
expect_bad "foreign file" "not an HDF5 file" -- "$mbold" dataset stats "$tmp/exists.h5"
expect_bad "missing file" "no such file" -- "$mbold" dataset stats "$tmp/none.h5"
expect_bad "unknown action" "unknown action" -- "$mbold" dataset show "$tmp/ok.h5"
"$mbold" dataset stats "$tmp/ok.h5" >"$tmp/out" 2>&1 && grep -q "episodes        2" "$tmp/out" || { echo "FAIL: dataset stats of a good file" >&2; cat "$tmp/out" >&2; failures=$((failures + 1)); }

# goals
expect_bad "goals: unknown task" "unknown task" -- "$mbold" goals --task nope --count 2 --out "$tmp/g"
expect_bad "goals: zero count" "--count must be positive" -- "$mbold" goals --task push1 --count 0 --out "$tmp/g"
expect_bad "goals: hard reach" "--hard" -- "$mbold" goals --task reach --hard --count 2 --out "$tmp/g"
"$mbold" goals --task push1 --count 2 --out "$tmp/g" >/dev/null 2>&1 || { echo "FAIL: goals" >&2; failures=$((failures + 1)); }
expect_bad "goals: existing suite" "exists" -- "$mbold" goals --task push1 --count 2 --out "$tmp/g"

# Headless jobs oversubscribe Mesa's CPU drivers 2x on small machines, unless the user chose.
cores=$(nproc)
want=$((cores <= 8 ? 2 * cores : 0))
info=$(env -u LP_NUM_THREADS "$mbold" info 2>/dev/null | grep "LP_NUM_THREADS")
if [ "$want" -gt 0 ] && ! grep -q "): $want\$" <<<"$info"; then
  echo "FAIL: info on $cores cores: '$info', wanted $want threads" >&2
  failures=$((failures + 1))
fi
info=$(LP_NUM_THREADS=3 "$mbold" info 2>/dev/null | grep "LP_NUM_THREADS")
grep -q "): 3\$" <<<"$info" || { echo "FAIL: info ignores the user's LP_NUM_THREADS: '$info'" >&2; failures=$((failures + 1)); }

if [ "$failures" -ne 0 ]; then
  echo "cli_bad_input: $failures failure(s)" >&2
  exit 1
fi
echo "cli_bad_input: all checks passed" >&2

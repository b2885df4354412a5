#!/usr/bin/env bash
# `mbold heatmap`: every bad input is one line on stderr and exit code 2 and writes nothing; a good
# run writes the PNG and a CSV with one line per cell. `mbold bench plan` refuses bad options the
# same way. Usage: cli_heatmap.sh PATH/TO/mbold
set -u
mbold="$1"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# expect_bad DESCRIPTION WORD -- COMMAND...: exit code 2, one stderr line containing WORD.
expect_bad() {
  local what="$1" word="$2"
  shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$? lines
  lines=$(wc -l <"$tmp/err")
  if [ "$rc" -ne 2 ] || [ "$lines" -ne 1 ] || ! grep -q -- "$word" "$tmp/err"; then
    fail "$what: exit $rc, $lines stderr line(s), wanted 2 / 1 line with '$word':"
    cat "$tmp/err" >&2
  fi
}

"$mbold" goals --task push1 --count 3 --seed 2 --out "$tmp/push1" >/dev/null 2>&1 || fail "goals push1"
"$mbold" goals --task reach --count 2 --seed 2 --out "$tmp/reach" >/dev/null 2>&1 || fail "goals reach"
mkdir -p "$tmp/emptyrun" "$tmp/nosuite"
png="$tmp/h.png"
csv="$tmp/h.csv"

expect_bad "missing --goal" "--goal" -- "$mbold" heatmap --task push1 --out "$png"
expect_bad "missing --out" "--out" -- "$mbold" heatmap --task push1 --goal "$tmp/push1/goal-001"
expect_bad "unknown task" "unknown task 'pushy'" -- "$mbold" heatmap --task pushy --goal "$tmp/push1/goal-001" --out "$png"
expect_bad "reach task" "no block to sweep" -- "$mbold" heatmap --task reach --goal "$tmp/reach/goal-000" --out "$png"
expect_bad "door task" "no block to sweep" -- "$mbold" heatmap --task door --goal "$tmp/reach/goal-000" --out "$png"
expect_bad "missing suite" "nosuite" -- "$mbold" heatmap --task push1 --goal "$tmp/nosuite/goal-000" --out "$png"
expect_bad "missing folder" "nothere" -- "$mbold" heatmap --task push1 --goal "$tmp/nothere/goal-000" --out "$png"
expect_bad "index out of range" "goal 7 out of range" -- "$mbold" heatmap --task push1 --goal "$tmp/push1/goal-007" --out "$png"
expect_bad "--index out of range" "goal 3 out of range" -- "$mbold" heatmap --task push1 --goal "$tmp/push1" --index 3 --out "$png"
expect_bad "suite folder without --index" "--index" -- "$mbold" heatmap --task push1 --goal "$tmp/push1" --out "$png"
expect_bad "contradicting --index" "contradicts" -- "$mbold" heatmap --task push1 --goal "$tmp/push1/goal-001" --index 2 --out "$png"
expect_bad "not a goal name" "neither a suite folder" -- "$mbold" heatmap --task push1 --goal "$tmp/push1/start-001" --out "$png"
expect_bad "task mismatch" "push1" -- "$mbold" heatmap --task push3 --goal "$tmp/push1/goal-001" --out "$png"
expect_bad "no such distance run" "does not exist" -- "$mbold" heatmap --task push1 --goal "$tmp/push1/goal-001" --distance "$tmp/norun" --out "$png"
expect_bad "distance run without checkpoint" "emptyrun" -- "$mbold" heatmap --task push1 --goal "$tmp/push1/goal-001" --distance "$tmp/emptyrun" --out "$png"
expect_bad "regression run without checkpoint" "--regression" -- "$mbold" heatmap --task push1 --goal "$tmp/push1/goal-001" --regression "$tmp/emptyrun" --out "$png"
expect_bad "grid 0" "--grid must be in" -- "$mbold" heatmap --task push1 --goal "$tmp/push1/goal-001" --grid 0 --out "$png"
expect_bad "grid too large" "--grid must be in" -- "$mbold" heatmap --task push1 --goal "$tmp/push1/goal-001" --grid 100000 --out "$png"
expect_bad "unknown backend" "unknown backend" -- "$mbold" heatmap --task push1 --goal "$tmp/push1/goal-001" --backend gpu --out "$png"
expect_bad "unwritable --out" "/nonexistent-folder" -- "$mbold" heatmap --task push1 --goal "$tmp/push1/goal-001" --out /nonexistent-folder/h.png
expect_bad "unwritable --csv" "/nonexistent-folder" -- "$mbold" heatmap --task push1 --goal "$tmp/push1/goal-001" --out "$png" --csv /nonexistent-folder/h.csv
expect_bad "stray argument" "unexpected argument" -- "$mbold" heatmap --task push1 --goal "$tmp/push1/goal-001" --out "$png" extra
[ -e "$png" ] || [ -e "$csv" ] && fail "a bad input wrote an output"
ls "$tmp" | grep -q tmp- && fail "a temporary file was left behind"

# A good run (a small grid): the PNG and one CSV line per cell, with the goal named either way.
"$mbold" heatmap --task push1 --goal "$tmp/push1/goal-001.png" --grid 6 --out "$png" --csv "$csv" >"$tmp/out" 2>&1 ||
  { fail "good run"; cat "$tmp/out" >&2; }
[ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "the output is not a PNG"
[ "$(head -1 "$csv")" = "i,j,x,y,pixel_mse" ] || fail "CSV header: $(head -1 "$csv")"
[ "$(wc -l <"$csv")" -eq 37 ] || fail "CSV lines: $(wc -l <"$csv"), wanted 37"
grep -q "6 x 6 cells" "$tmp/out" || { fail "summary line"; cat "$tmp/out" >&2; }
"$mbold" heatmap --task push1 --goal "$tmp/push1" --index 1 --grid 6 --out "$tmp/h2.png" --csv "$tmp/h2.csv" >/dev/null 2>&1 || fail "good run with --index"
cmp -s "$csv" "$tmp/h2.csv" || fail "the same goal named two ways gives different numbers"

# bench plan: bad options (no timing here: benchmarks are not tests).
expect_bad "bench plan: unknown task" "unknown task" -- "$mbold" bench plan --task nope
expect_bad "bench plan: reps" "--reps" -- "$mbold" bench plan --reps 0
expect_bad "bench plan: backend" "unknown backend" -- "$mbold" bench plan --backend gpu
expect_bad "bench plan: no distance run" "norun" -- "$mbold" bench plan --distance "$tmp/norun"
expect_bad "bench plan: no dynamics checkpoint" "emptyrun" -- "$mbold" bench plan --dynamics "$tmp/emptyrun"

if [ "$failures" -ne 0 ]; then
  echo "cli_heatmap: $failures failure(s)" >&2
  exit 1
fi
echo "cli_heatmap: all checks passed" >&2

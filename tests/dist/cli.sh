#!/usr/bin/env bash
# mbold train distance / eval-distance / bench train-distance from the command line: a run and its
# files, resume equals uninterrupted (log and checkpoint bytes), Ctrl-C saves, resume refuses other
# data or another method, bad input is one line and exit code 2 with nothing written.
# Usage: cli.sh MBOLD MAKE_DATASET
set -u
MBOLD=$1
MAKE=$2
W=$(mktemp -d /tmp/mbold-dist-cli-XXXXXX)
trap 'rm -rf "$W"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# expect CODE CMD...: runs CMD, checks the exit code and, for code 2, that stderr is one line.
expect() {
  local want=$1; shift
  "$@" >"$W/out" 2>"$W/err"
  local got=$?
  [ "$got" = "$want" ] || fail "exit $got (wanted $want): $* :: $(tail -n 3 "$W/err")"
  if [ "$want" = 2 ] && [ "$(wc -l <"$W/err")" != 1 ]; then
    fail "not one line on stderr: $* :: $(cat "$W/err")"
  fi
}
# The log without its timing field.
strip_rates() { sed -e 's/,"steps_per_s":[^,}]*//' "$1"; }

"$MAKE" "$W/a.h5" 40 1 || { echo "cannot make the dataset" >&2; exit 1; }
"$MAKE" "$W/b.h5" 40 2 || exit 1
"$MAKE" "$W/nan.h5" 40 3 nan || exit 1
COMMON=(--backend cpu --log-every 1 --checkpoint-every 2 --eval-every 3 --threads 1)

# A run of 6 steps, uninterrupted.
expect 0 "$MBOLD" train distance --data "$W/a.h5" --out "$W/r1" --steps 6 "${COMMON[@]}"
for f in config.json log.jsonl state.json checkpoint-00000006.safetensors; do
  [ -f "$W/r1/$f" ] || fail "run folder lacks $f"
done
[ "$(wc -l <"$W/r1/log.jsonl")" = 6 ] || fail "log has $(wc -l <"$W/r1/log.jsonl") lines, wanted 6"
grep -q '"val_spearman"' "$W/r1/log.jsonl" || fail "no validation metrics in the log"
grep -q '"hash"' "$W/r1/config.json" || fail "config.json lacks the dataset hash"
grep -q '"cql_tau": 30' "$W/r1/config.json" || fail "config.json lacks cql_tau 30 for push1"

# With MBOLD_PROGRESS=json (how the workbench runs jobs) every log line also goes to stderr as
# {"log": ...}: the job panel draws its loss curve from those.
MBOLD_PROGRESS=json expect 0 "$MBOLD" train distance --data "$W/a.h5" --out "$W/rj" --steps 3 \
  "${COMMON[@]}"
[ "$(grep -c '^{"log": {"step":[0-9]*,"bellman":' "$W/err")" = 3 ] ||
  fail "JSON progress lacks the log lines: $(head -c 400 "$W/err")"

# 3 steps, then resumed to 6: the same log and the same checkpoint bytes.
expect 0 "$MBOLD" train distance --data "$W/a.h5" --out "$W/r2" --steps 3 "${COMMON[@]}"
expect 0 "$MBOLD" train distance --data "$W/a.h5" --out "$W/r2" --steps 6 --resume --backend cpu \
  --threads 1
cmp -s <(strip_rates "$W/r1/log.jsonl") <(strip_rates "$W/r2/log.jsonl") ||
  fail "resumed log differs from the uninterrupted one"
cmp -s "$W/r1/checkpoint-00000006.safetensors" "$W/r2/checkpoint-00000006.safetensors" ||
  fail "resumed checkpoint differs from the uninterrupted one"
[ -f "$W/r2/checkpoint-00000002.safetensors" ] && fail "an old checkpoint was kept"

# Resume refuses other data, another method, another seed; an existing run needs --resume.
expect 2 "$MBOLD" train distance --data "$W/b.h5" --out "$W/r2" --steps 8 --resume
grep -q "trained on" "$W/err" || fail "other data: $(cat "$W/err")"
expect 2 "$MBOLD" train distance --data "$W/a.h5" --out "$W/r2" --steps 8 --resume \
  --method regression
expect 2 "$MBOLD" train distance --data "$W/a.h5" --out "$W/r2" --steps 8 --resume --seed 9
expect 2 "$MBOLD" train distance --data "$W/a.h5" --out "$W/r2" --steps 8
grep -q -- "--resume" "$W/err" || fail "existing run: $(cat "$W/err")"
[ "$(wc -l <"$W/r2/log.jsonl")" = 6 ] || fail "a refused resume changed the log"

# Bad input: one line, exit 2, no run folder left behind.
printf 'not an hdf5 file' >"$W/bad.h5"
head -c 5000 "$W/a.h5" >"$W/cut.h5"
for data in "$W/bad.h5" "$W/cut.h5" "$W/missing.h5" "$W/nan.h5"; do
  expect 2 "$MBOLD" train distance --data "$data" --out "$W/rbad" --steps 2 --backend cpu
  grep -q "$(basename "$data")" "$W/err" || fail "error does not name the file: $(cat "$W/err")"
  [ -e "$W/rbad" ] && { fail "a run folder was created for $data"; rm -rf "$W/rbad"; }
done
grep -q "not a finite number" "$W/err" || fail "NaN data: $(cat "$W/err")"
expect 2 "$MBOLD" train distance --out "$W/rbad"
expect 2 "$MBOLD" train distance --data "$W/a.h5" --out "$W/rbad" --method sarsa
expect 2 "$MBOLD" train distance --data "$W/a.h5" --out "$W/rbad" --backend gpu
expect 2 "$MBOLD" train distance --data "$W/a.h5" --out "$W/rbad" --steps -3
expect 2 "$MBOLD" train distance --data "$W/a.h5" --out "$W/none" --resume
expect 2 "$MBOLD" train flux --data "$W/a.h5"
[ -e "$W/rbad" ] && fail "a run folder was created for bad arguments"

# Ctrl-C saves the last completed step; --resume goes on from there.
"$MBOLD" train distance --data "$W/a.h5" --out "$W/r3" --steps 100000 --backend cpu \
  --threads 1 --log-every 1 --eval-every 0 >"$W/out" 2>"$W/err" &
pid=$!
for _ in $(seq 1 600); do
  [ -s "$W/r3/log.jsonl" ] && break
  sleep 0.1
done
kill -INT "$pid"
wait "$pid"
code=$?
[ "$code" = 1 ] || fail "Ctrl-C: exit $code, wanted 1"
grep -q "checkpoint saved" "$W/err" || fail "Ctrl-C: $(cat "$W/err")"
step=$(grep -o '"step": *[0-9]*' "$W/r3/state.json" | grep -o '[0-9]*$')
[ -n "$step" ] && [ "$step" -ge 1 ] || fail "Ctrl-C: no checkpoint recorded ($step)"
expect 0 "$MBOLD" train distance --data "$W/a.h5" --out "$W/r3" --steps $((step + 1)) --resume \
  --backend cpu --threads 1

# A regression run, then eval-distance with both, side by side with pixels.
expect 0 "$MBOLD" train distance --data "$W/a.h5" --out "$W/reg" --steps 2 --method regression \
  --backend cpu --threads 1
expect 0 "$MBOLD" eval-distance --distance "$W/r1" --regression "$W/reg" --data "$W/a.h5" \
  --json "$W/eval.json" --backend cpu --pairs 100
for k in '"distance"' '"regression"' '"pixel_l2"' '"spearman"' '"ranking_accuracy"' '"hash"'; do
  grep -q "$k" "$W/eval.json" || fail "eval.json lacks $k"
done
expect 2 "$MBOLD" eval-distance --distance "$W/r1" --regression "$W/r1" --data "$W/a.h5" \
  --json "$W/e2.json"
expect 2 "$MBOLD" eval-distance --distance "$W/nothing" --data "$W/a.h5" --json "$W/e2.json"
expect 2 "$MBOLD" eval-distance --distance "$W/r1" --data "$W/bad.h5" --json "$W/e2.json"
expect 2 "$MBOLD" eval-distance --distance "$W/r1" --data "$W/a.h5" --json "$W/no/such/dir/e.json"
[ -e "$W/e2.json" ] && fail "a results file was written for bad input"

# The benchmark runs and prints JSON.
expect 0 "$MBOLD" bench train-distance --backend cpu --json --pairs 1 --episodes 4 --threads 1
grep -q '"ms_per_step"' "$W/out" || fail "bench: $(cat "$W/out")"

[ "$fails" = 0 ] && echo "dist cli: all checks passed" >&2
exit $((fails > 0))

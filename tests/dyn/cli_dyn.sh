#!/usr/bin/env bash
# `mbold train dynamics`, `mbold eval-dynamics` and `mbold bench train-dynamics|dynamics` from the
# command line: a tiny end-to-end run (collect, train, resume, evaluate, filmstrip, benchmark, Ctrl-C
# saves a resumable checkpoint), and every bad input is one line on stderr with exit code 2 that
# leaves existing files untouched. Usage: cli_dyn.sh PATH/TO/mbold
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
    echo "FAIL: $what: exit $rc, $lines stderr line(s), wanted 2 / 1 line with '$word':" >&2
    cat "$tmp/err" >&2
    failures=$((failures + 1))
  fi
}

export MBOLD_BACKEND=cpu
d="$tmp/d.h5"
"$mbold" collect --task push1 --episodes 20 --seed 5 --threads 2 --out "$d" >/dev/null 2>&1 || fail "collect"
small=(--steps 2 --batch 2 --latent 8 --log-every 1 --checkpoint-every 1 --eval-every 1 --val-episodes 1 --threads 2)

# ---- a tiny run end to end
r="$tmp/run"
"$mbold" train dynamics --data "$d" --out "$r" "${small[@]}" >"$tmp/out" 2>"$tmp/err" || { fail "train"; cat "$tmp/err" >&2; }
grep -q "step 2" "$tmp/out" || fail "train summary: $(cat "$tmp/out")"
[ "$(wc -l <"$r/log.jsonl")" -eq 2 ] && grep -q val_mse "$r/log.jsonl" || fail "log.jsonl: $(cat "$r/log.jsonl")"
# JSON progress (how the workbench runs jobs) carries every log line, for the job's loss curve.
MBOLD_PROGRESS=json "$mbold" train dynamics --data "$d" --out "$tmp/runj" "${small[@]}" >/dev/null 2>"$tmp/err" || fail "train (json)"
[ "$(grep -c '^{"log": {"step":[0-9]*,"mse":' "$tmp/err")" -eq 2 ] || fail "JSON progress lacks the log lines: $(head -c 400 "$tmp/err")"
"$mbold" train dynamics --data "$d" --out "$r" --resume --steps 3 >"$tmp/out" 2>"$tmp/err" || { fail "resume"; cat "$tmp/err" >&2; }
[ -f "$r/checkpoint-00000003.safetensors" ] || fail "resume wrote no checkpoint 3"
# Fine-tuning: a new run from another's weights, on the change-weighted loss.
"$mbold" train dynamics --data "$d" --out "$tmp/ft" "${small[@]}" --init "$r" --change-weight 5 >"$tmp/out" 2>"$tmp/err" || { fail "fine-tune"; cat "$tmp/err" >&2; }
grep -q '"change_weight": *5' "$tmp/ft/config.json" && grep -q "\"init\": *\"$r\"" "$tmp/ft/config.json" || fail "fine-tune config: $(cat "$tmp/ft/config.json")"
grep -q '"pixel_loss": *"l2"' "$tmp/ft/config.json" || fail "the default loss is not recorded as l2: $(cat "$tmp/ft/config.json")"
# The l1 loss: recorded, kept by --resume, refused to change on resume.
l1="$tmp/l1"
"$mbold" train dynamics --data "$d" --out "$l1" "${small[@]}" --loss l1 >"$tmp/out" 2>"$tmp/err" || { fail "train (l1)"; cat "$tmp/err" >&2; }
grep -q '"pixel_loss": *"l1"' "$l1/config.json" || fail "l1 config: $(cat "$l1/config.json")"
"$mbold" train dynamics --data "$d" --out "$l1" --resume --steps 3 >"$tmp/out" 2>"$tmp/err" || { fail "resume (l1)"; cat "$tmp/err" >&2; }
expect_bad "resume l1 run with l2" "pixel_loss" -- "$mbold" train dynamics --data "$d" --out "$l1" --resume --steps 5 --loss l2
# The 16 x 16 latent grid: recorded in the run, kept by --resume, read back by eval-dynamics.
g="$tmp/g16"
"$mbold" train dynamics --data "$d" --out "$g" "${small[@]}" --latent-grid 16 >"$tmp/out" 2>"$tmp/err" || { fail "train (grid 16)"; cat "$tmp/err" >&2; }
grep -q '"latent_hw": *16' "$g/config.json" || fail "grid 16 config: $(cat "$g/config.json")"
"$mbold" train dynamics --data "$d" --out "$g" --resume --steps 3 >"$tmp/out" 2>"$tmp/err" || { fail "resume (grid 16)"; cat "$tmp/err" >&2; }
"$mbold" eval-dynamics --dynamics "$g" --data "$d" --json "$tmp/g.json" >"$tmp/out" 2>"$tmp/err" && grep -q '"step": *3' "$tmp/g.json" || { fail "eval-dynamics (grid 16)"; cat "$tmp/err" >&2; }
# Frames warped from the previous frame: the blur goes off unasked, recorded and kept by --resume;
# evaluated, and planned with (every step decoded).
wp="$tmp/wp"
"$mbold" train dynamics --data "$d" --out "$wp" "${small[@]}" --warp-source previous >"$tmp/out" 2>"$tmp/err" || { fail "train (warp previous)"; cat "$tmp/err" >&2; }
grep -q '"warp_source": *"previous"' "$wp/config.json" && grep -q '"blur_sigma": *0' "$wp/config.json" || fail "warp previous config: $(cat "$wp/config.json")"
"$mbold" train dynamics --data "$d" --out "$wp" --resume --steps 3 >"$tmp/out" 2>"$tmp/err" || { fail "resume (warp previous)"; cat "$tmp/err" >&2; }
"$mbold" eval-dynamics --dynamics "$wp" --data "$d" --json "$tmp/wp.json" >"$tmp/out" 2>"$tmp/err" && grep -q '"step": *3' "$tmp/wp.json" || { fail "eval-dynamics (warp previous)"; cat "$tmp/err" >&2; }
"$mbold" bench dynamics --dynamics "$wp" --samples 4 --reps 1 --json >"$tmp/out" 2>&1 && grep -q ms_best "$tmp/out" || fail "bench dynamics (warp previous): $(cat "$tmp/out")"
"$mbold" eval-dynamics --dynamics "$r" --data "$d" --json "$tmp/e.json" --png "$tmp/e.png" --strips 2 >"$tmp/out" 2>"$tmp/err" || { fail "eval-dynamics"; cat "$tmp/err" >&2; }
grep -q '"psnr_changed"' "$tmp/e.json" && grep -q '"copy_last"' "$tmp/e.json" || fail "eval JSON: $(head -c 300 "$tmp/e.json")"
# push1 has a block: the moving-object metrics are there, in the JSON and the printed table.
grep -q '"objects"' "$tmp/e.json" && grep -q '"tracked"' "$tmp/e.json" && grep -q "moving objects" "$tmp/out" || fail "eval: no moving-object metrics: $(tail -3 "$tmp/out")"
# reach has no objects: no such section (a grey "object" would be found everywhere).
"$mbold" collect --task reach --episodes 20 --seed 5 --threads 2 --out "$tmp/reach.h5" >/dev/null 2>&1 || fail "collect reach"
"$mbold" eval-dynamics --dynamics "$r" --data "$tmp/reach.h5" --json "$tmp/er.json" >"$tmp/out" 2>"$tmp/err" || { fail "eval-dynamics (reach)"; cat "$tmp/err" >&2; }
grep -q '"psnr_changed"' "$tmp/er.json" && ! grep -q '"objects"' "$tmp/er.json" && ! grep -q "moving objects" "$tmp/out" || fail "eval on reach: $(tail -3 "$tmp/out")"
[ "$(head -c 8 "$tmp/e.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "filmstrip is not a PNG"
"$mbold" bench dynamics --dynamics "$r" --samples 4 --reps 1 --json >"$tmp/out" 2>&1 && grep -q ms_best "$tmp/out" || fail "bench dynamics: $(cat "$tmp/out")"
"$mbold" bench train-dynamics --steps 1 --batch 2 --json >"$tmp/out" 2>&1 && grep -q ms_best "$tmp/out" || fail "bench train-dynamics: $(cat "$tmp/out")"
# The episode runner plans with the learned model (bench plan's learned-dynamics case).
"$mbold" bench plan --task push1 --dynamics "$r" --reps 1 >"$tmp/out" 2>&1 && grep -q "learned dynamics + pixel" "$tmp/out" && grep -q "learned dynamics rollout" "$tmp/out" || fail "bench plan with learned dynamics: $(tail -3 "$tmp/out")"

# ---- Ctrl-C saves a checkpoint and says how to resume
c="$tmp/run-int"
"$mbold" train dynamics --data "$d" --out "$c" --steps 100000 --batch 2 --latent 8 --threads 2 >"$tmp/iout" 2>"$tmp/ierr" &
pid=$!
for _ in $(seq 1 600); do
  grep -q '"step"' "$c/log.jsonl" 2>/dev/null && break
  sleep 0.1
done
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 1 ] || fail "interrupted training exited $rc, wanted 1"
grep -q -- "--resume" "$tmp/ierr" || fail "interrupt message: $(tail -1 "$tmp/ierr")"
[ -f "$c/state.json" ] || fail "no checkpoint after Ctrl-C"

# ---- bad inputs
n="$tmp/new"
expect_bad "missing --data" "--data" -- "$mbold" train dynamics --out "$n"
expect_bad "missing dataset" "none.h5" -- "$mbold" train dynamics --data "$tmp/none.h5" --out "$n"
echo "not hdf5" >"$tmp/foreign.h5"
expect_bad "foreign dataset" "foreign.h5" -- "$mbold" train dynamics --data "$tmp/foreign.h5" --out "$n"
expect_bad "unknown backend" "--backend" -- "$mbold" train dynamics --data "$d" --out "$n" --backend tpu
expect_bad "zero batch" "batch" -- "$mbold" train dynamics --data "$d" --out "$n" --batch 0
expect_bad "bad context" "context" -- "$mbold" train dynamics --data "$d" --out "$n" --context 3
expect_bad "negative threads" "--threads" -- "$mbold" train dynamics --data "$d" --out "$n" --threads -1
expect_bad "negative change weight" "change weight" -- "$mbold" train dynamics --data "$d" --out "$n" --change-weight -1
expect_bad "bad latent grid" "latent grid" -- "$mbold" train dynamics --data "$d" --out "$n" --latent-grid 7
expect_bad "bad loss" "--loss" -- "$mbold" train dynamics --data "$d" --out "$n" --loss huber
expect_bad "bad warp source" "--warp-source" -- "$mbold" train dynamics --data "$d" --out "$n" --warp-source next
expect_bad "warp previous with blur" "blur" -- "$mbold" train dynamics --data "$d" --out "$n" --warp-source previous --blur 2
expect_bad "init: no run" "no-run" -- "$mbold" train dynamics --data "$d" --out "$n" --init "$tmp/no-run"
expect_bad "init: other model" "latent" -- "$mbold" train dynamics --data "$d" --out "$n" --init "$r" --latent 12
# Models that differ only where the message's numbers do not show it: the field is named.
expect_bad "init: other warp source" "warp_source" -- "$mbold" train dynamics --data "$d" --out "$n" "${small[@]}" --init "$wp" --blur 0
# (checked before the dataset is read: a missing file is not reached)
expect_bad "init: checked first" "latent" -- "$mbold" train dynamics --data "$tmp/none.h5" --out "$n" --init "$r" --latent 12
[ -e "$n" ] && fail "a bad input created $n"
cp "$r/log.jsonl" "$tmp/log.before"
expect_bad "existing run" "--resume" -- "$mbold" train dynamics --data "$d" --out "$r" "${small[@]}"
expect_bad "resume other batch" "batch" -- "$mbold" train dynamics --data "$d" --out "$r" --resume --steps 5 --batch 3
expect_bad "resume other change weight" "change_weight" -- "$mbold" train dynamics --data "$d" --out "$r" --resume --steps 5 --change-weight 2
expect_bad "resume other warp source" "warp_source" -- "$mbold" train dynamics --data "$d" --out "$r" --resume --steps 5 --warp-source previous
expect_bad "resume other latent grid" "latent_hw" -- "$mbold" train dynamics --data "$d" --out "$r" --resume --steps 5 --latent-grid 16
cmp -s "$r/log.jsonl" "$tmp/log.before" || fail "a refused run changed log.jsonl"
expect_bad "resume no run" "no-run" -- "$mbold" train dynamics --data "$d" --out "$tmp/no-run" --resume

expect_bad "eval: no run" "no-run" -- "$mbold" eval-dynamics --dynamics "$tmp/no-run" --data "$d" --json "$tmp/x.json"
mkdir -p "$tmp/empty-run"
expect_bad "eval: empty folder" "empty-run" -- "$mbold" eval-dynamics --dynamics "$tmp/empty-run" --data "$d" --json "$tmp/x.json"
expect_bad "eval: missing --json" "--json" -- "$mbold" eval-dynamics --dynamics "$r" --data "$d"
expect_bad "eval: missing dataset" "none.h5" -- "$mbold" eval-dynamics --dynamics "$r" --data "$tmp/none.h5" --json "$tmp/x.json"
expect_bad "eval: unwritable json" "/nonexistent-folder" -- "$mbold" eval-dynamics --dynamics "$r" --data "$d" --json /nonexistent-folder/x.json
echo "precious" >"$tmp/keep.json"
ck="$(ls "$r"/checkpoint-*.safetensors)"
head -c 1000 "$ck" >"$tmp/trunc" && cp "$tmp/trunc" "$ck"
expect_bad "eval: truncated checkpoint" "checkpoint-0000000" -- "$mbold" eval-dynamics --dynamics "$r" --data "$d" --json "$tmp/keep.json"
grep -q precious "$tmp/keep.json" || fail "a failed eval touched its --json file"
[ -e "$tmp/x.json" ] && fail "a failed eval created x.json"
expect_bad "bench: truncated checkpoint" "checkpoint-0000000" -- "$mbold" bench dynamics --dynamics "$r" --samples 2 --reps 1
expect_bad "unknown trainer" "unknown trainer" -- "$mbold" train dynamix --data "$d" --out "$n"

if [ "$failures" -ne 0 ]; then
  echo "cli_dyn: $failures failure(s)" >&2
  exit 1
fi
echo "cli_dyn: all checks passed" >&2

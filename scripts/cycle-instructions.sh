#!/usr/bin/env bash
# Instructions (valgrind's callgrind, stable however busy the machine is) that one entra-sim
# binary spends on three cycles of a generated 5,000-user, 50-group tenant against its own
# built-in target: the initial cycle, an incremental one after `directory mutate --changes 100`
# (line-level deltas), and a no-change one. Only the cycle process is counted.
#
#   scripts/cycle-instructions.sh BIN LABEL [WORKDIR]
#
# For an A/B comparison run it for both binaries (best at the same time, one per core) and
# again; a spin-wait inside sled can add a few hundred million instructions to one run, so
# compare the lower of two runs. BENCHMARKS.md ("Architecture refactor") holds the figures.
set -euo pipefail
BIN=$(realpath "$1"); LABEL=$2; W=${3:-target/cycle-instructions}
REPO=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$W"; W=$(realpath "$W")
if [ ! -e "$W/tenant2.jsonl" ]; then
  "$BIN" directory generate --seed 1 --users 5000 --groups 50 --out "$W/tenant.jsonl" \
    --job-out "$W/job0.yaml" --mapping "$REPO/mappings/scim-default.yaml" >/dev/null
  "$BIN" directory mutate --changes 100 --seed 2 --in "$W/tenant.jsonl" --out "$W/tenant2.jsonl" >/dev/null
fi
R="$W/run-$LABEL"; rm -rf "$R"; mkdir -p "$R"
cp "$W/tenant.jsonl" "$R/tenant.jsonl"
"$BIN" target serve --port 0 --token bench --max-recorded 0 > "$R/target.out" 2>/dev/null &
TARGET=$!
trap 'kill $TARGET 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q http "$R/target.out" 2>/dev/null && break; sleep 0.1; done
URL=$(grep -o 'http://[^ ]*' "$R/target.out" | head -1)
python3 - "$W/job0.yaml" "$R/job.yaml" "$R/tenant.jsonl" "$URL" "$R/state" "$REPO/mappings/scim-default.yaml" <<'PY'
import sys, yaml
src, dst, directory, url, state, mapping = sys.argv[1:]
job = yaml.safe_load(open(src))
job['directory'] = directory
job['mapping'] = mapping
job['target'] = {'url': url, 'token_env': 'ENTRA_SIM_TOKEN'}
job.setdefault('settings', {})['state_dir'] = state
job['settings']['concurrency'] = 8
yaml.safe_dump(job, open(dst, 'w'))
PY
count() {
  ENTRA_SIM_TOKEN=bench valgrind --tool=callgrind --callgrind-out-file="$R/$1.callgrind" \
    "$BIN" cycle --json --quiet --job "$R/job.yaml" > /dev/null 2> "$R/$1.err" || true
  echo "$LABEL $1 $(grep -o 'refs: *[0-9,]*' "$R/$1.err" | tr -d ', ' | cut -d: -f2) instructions"
}
count initial
cp "$W/tenant2.jsonl" "$R/tenant.jsonl"
count incremental
count no-change

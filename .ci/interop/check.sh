#!/usr/bin/env bash
# Starts scim2-server and SCIMMY on loopback (start.sh), runs `entra-sim conformance --mode both`
# against each with the debug binary (build it first: cargo build or cargo test), and compares the
# verdicts with expected.json (check.py). `--update` rewrites expected.json's verdicts from the run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
t0=$(date +%s)
status=0
"$here/start.sh" python3 "$here/check.py" "$@" || status=$?
echo "interop: $(( $(date +%s) - t0 )) s in all" >&2
exit "$status"

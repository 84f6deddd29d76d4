#!/usr/bin/env bash
# Proves the HTML report works in a real browser: builds entra-sim, serves the built-in target with
# injected faults, runs one cycle of the sample job (Contoso, Entra's default mapping) against it,
# writes the report, lets headless Chromium load it (its inline script fills the summary counts
# from the embedded JSON), and checks the rendered DOM shows the cycle's counts and failures, and
# nothing wider than the window (render_probed in check-common.sh).
# Needs chromium on PATH (Debian: apt-get install chromium; CHROMIUM=path overrides). Exit 1 on any
# mismatch. Then checks the `conformance --html` page the same way (check-conformance-page.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
chromium=${CHROMIUM:-chromium}
name=check-report
# shellcheck source=scripts/check-common.sh
source scripts/check-common.sh

# Two users' creations fail: the first with a 500, the second with a 409.
start_target check-report-token 'POST /Users=500:times=1; POST /Users=409:times=1'

sed -e "s|\.\./directory-samples/|$repo/directory-samples/|" \
    -e "s|\.\./mappings/|$repo/mappings/|" \
    -e "s|http://127.0.0.1:8080/scim/v2|$url|" \
    jobs/sample.yaml >"$work/sample.yaml"

set +e
ENTRA_SIM_TOKEN=check-report-token "$bin" cycle --job "$work/sample.yaml" --json >"$work/cycle.json"
code=$?
set -e
[ "$code" -eq 1 ] || fail "expected the cycle to exit 1 (entry failures), got $code"

# The cycle's own counts, from its summary: the last line of `cycle --json` (JSON Lines).
expected() {
    tail -n 1 "$work/cycle.json" | grep -o "\"$1\":[0-9]*" | head -n 1 | cut -d: -f2
}

"$bin" report --job "$work/sample.yaml" --out "$work/report.html"
grep -q 'id="count-created">–<' "$work/report.html" ||
    fail "the page should leave the counts to its script"

render_probed "$work/report.html"

grep -q 'data-rendered="yes"' "$work/dom.html" || fail "the page's script did not run"
for key in created updated disabled deleted skipped failed; do
    want=$(expected "$key")
    [ -n "$want" ] || fail "no $key count in the cycle's output"
    expect_count "$key" "$want"
done
[ "$(expected failed)" -eq 2 ] || fail "expected 2 failures, the cycle reports $(expected failed)"
for code in InternalServerError SystemForCrossDomainIdentityManagementServiceIncompatibleFiltering; do
    grep -q "<code class=\"code\">$code</code>" "$work/dom.html" || fail "no failure group $code"
done
echo "check-report: the report renders in Chromium with the cycle's counts"

cleanup
trap - EXIT
CHROMIUM="$chromium" bash scripts/check-conformance-page.sh

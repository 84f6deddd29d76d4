#!/usr/bin/env bash
# Proves `conformance --html` works in a real browser (called by check-report.sh): serves the
# built-in target with one fault (no /Schemas, so Schema_Discoverability_Test fails in both
# modes), runs `conformance --mode both --json --html` with one test --skip'ped, then lets headless
# Chromium render the page: a screenshot, and the DOM of a probe copy (render_probed in
# check-common.sh: nothing wider than the window) checked for the run's verdict, counts, failure,
# fix and skip. The page itself runs no script.
# CHROMIUM=path overrides chromium; SCREENSHOT_DIR=dir keeps conformance.png there. Exit 1 on
# any mismatch.
set -euo pipefail
cd "$(dirname "$0")/.."
chromium=${CHROMIUM:-chromium}

name=check-conformance-page
# shellcheck source=scripts/check-common.sh
source scripts/check-common.sh

start_target check-page-token 'GET /Schemas=404'

set +e
CONF_TOKEN=check-page-token "$bin" conformance --url "$url" --token-env CONF_TOKEN \
    --mode both --skip Duplicate_Group_Test --json --html "$work/page.html" >"$work/run.json"
code=$?
set -e
[ "$code" -eq 1 ] || fail "expected exit 1 (a mandatory test failed), got $code"
grep -q 'check-page-token' "$work/page.html" && fail "the token is in the page"
grep -q '<script' "$work/page.html" && fail "the page should need no script"

# The run's own counts, from its --json document.
expected() {
    grep -c "\"testResult\": \"$1\"" "$work/run.json" || true
}

render --window-size=1280,2200 --screenshot="$work/conformance.png" "file://$work/page.html" \
    >/dev/null
[ -s "$work/conformance.png" ] || fail "no screenshot"
if [ -n "${SCREENSHOT_DIR:-}" ]; then cp "$work/conformance.png" "$SCREENSHOT_DIR/"; fi

render_probed "$work/page.html"
grep -q 'id="overall">Failed<' "$work/dom.html" || fail "no Failed verdict"
for pair in passed:PASSED failed:FAILED warning:WARNING skipped:SKIPPED; do
    expect_count "${pair%%:*}" "$(expected "${pair#*:}")"
done
[ "$(expected FAILED)" -eq 2 ] || fail "expected 2 failures, the run reports $(expected FAILED)"
for mode in default aadOptscim062020; do
    grep -q "id=\"t-$mode-Schema_Discoverability_Test\"" "$work/dom.html" ||
        fail "no details of the $mode failure"
done
grep -q 'read /Schemas: answered 404' "$work/dom.html" || fail "no failure details"
grep -q '<p class="hint">list every attribute Entra writes in GET /Schemas' "$work/dom.html" ||
    fail "no fix hint"
grep -q '<td class="why">skipped with --skip</td>' "$work/dom.html" || fail "no skip reason"
grep -q 'Failing in both dialects (server defects no Tenant URL flag fixes): Schema_Discoverability_Test.' "$work/dom.html" || fail "no dialect line"
summary=$(grep -o '[0-9]* passed, [0-9]* failed, [0-9]* warnings, [0-9]* skipped: Failed' "$work/dom.html")
[ -n "$summary" ] || fail "no summary line"
echo "check-conformance-page: the conformance page renders in Chromium ($summary)"

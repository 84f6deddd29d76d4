# Sourced by check-report.sh and check-conformance-page.sh: what both need to check a page in a
# real browser — the built binary ($bin), a scratch directory ($work, removed at exit with the
# target), `fail`, `start_target`, `render` and `expect_count`. Set $name (the script's name, for messages) and
# $chromium before sourcing.

cargo build --locked --quiet
bin=${CARGO_TARGET_DIR:-$(pwd)/target}/debug/entra-sim

work=$(mktemp -d)
server=""
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

fail() {
    echo "$name: $*" >&2
    exit 1
}

# start_target TOKEN FAULTS: serves the built-in target on a free port with those fault rules;
# sets $url to its Tenant URL.
start_target() {
    ENTRA_SIM_TOKEN=$1 "$bin" target serve --port 0 --fault "$2" >"$work/target.log" 2>&1 &
    server=$!
    url=""
    for _ in $(seq 1 100); do
        url=$(sed -n 's|^SCIM target listening at \(http://[^ ]*\) .*|\1|p' "$work/target.log")
        [ -n "$url" ] && break
        sleep 0.1
    done
    [ -n "$url" ] || fail "the target did not start: $(cat "$work/target.log")"
}

# render ARGS…: headless Chromium with a scratch profile, no network of its own.
render() {
    "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --hide-scrollbars --user-data-dir="$work/profile" "$@" 2>>"$work/chromium.log" ||
        fail "chromium failed: $(tail -n 5 "$work/chromium.log")"
}

# expect_count KEY WANT: the rendered page ($work/dom.html) shows WANT in #count-KEY.
expect_count() {
    grep -q "id=\"count-$1\">$2<" "$work/dom.html" ||
        fail "count-$1: expected $2, the page shows $(grep -o "id=\"count-$1\">[^<]*<" "$work/dom.html")"
    echo "count-$1 = $2"
}

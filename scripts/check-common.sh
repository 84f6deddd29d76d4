# Sourced by check-report.sh and check-conformance-page.sh: what both need to check a page in a
# real browser — the built binary ($bin), a scratch directory ($work, removed at exit with the
# target), `fail`, `start_target`, `render`, `render_probed` and `expect_count`. Set $name (the script's name, for messages) and
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

# What render_probed adds to a copy of a page: opens every <details>, then notes in
# body[data-overflow] the first elements reaching past the window's right edge (outside a
# horizontally scrolling .scroll box), or "none".
probe_script='(function () {
  document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  var width = document.documentElement.clientWidth, wide = [];
  document.querySelectorAll("body *").forEach(function (el) {
    if (el.closest(".scroll")) { return; }
    if (el.getBoundingClientRect().right > width + 1) { wide.push(el.tagName + "." + el.className); }
  });
  if (document.documentElement.scrollWidth > width) { wide.unshift("page"); }
  document.body.setAttribute("data-overflow", wide.length ? wide.slice(0, 5).join(" ") : "none");
}());'

# render_probed PAGE: renders a copy of PAGE with the probe script (allowed by the page's nonce,
# or by a policy that allows inline script when it has none) in a 1024 px window into
# $work/dom.html, and fails when anything is wider than the window.
render_probed() {
    local nonce
    nonce=$(sed -n "s|.*script-src 'nonce-\([^']*\)'.*|\1|p" "$1" | head -n 1)
    if [ -n "$nonce" ]; then
        cp "$1" "$work/probe.html"
    else
        sed -e "s|form-action 'none'\">|form-action 'none'; script-src 'unsafe-inline'\">|" \
            "$1" >"$work/probe.html"
    fi
    printf '<script nonce="%s">%s</script>\n' "$nonce" "$probe_script" >>"$work/probe.html"
    render --window-size=1024,800 --dump-dom "file://$work/probe.html" >"$work/dom.html"
    local overflow
    overflow=$(sed -n 's|.*data-overflow="\([^"]*\)".*|\1|p' "$work/dom.html")
    [ -n "$overflow" ] || fail "the probe did not run"
    [ "$overflow" = none ] || fail "wider than the window at 1024 px: $overflow"
    echo "$name: nothing wider than the window at 1024 px"
}

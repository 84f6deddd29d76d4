#!/usr/bin/env bash
# Installs and starts two third-party SCIM servers on 127.0.0.1 to try entra-sim against:
# scim2-server (Python, PyPI) and SCIMMY (Node, npm) behind our host scimmy-host.mjs.
#
#   .ci/interop/start.sh              start both, print their base URLs, serve until Ctrl-C
#   .ci/interop/start.sh CMD ARGS...  start both, run CMD with SCIM2_URL, SCIMMY_URL,
#                                     SCIM2_TOKEN_FILE and SCIMMY_TOKEN_FILE set, stop, exit as CMD
#
# Environment (all optional):
#   INTEROP_CACHE   where the venv, node_modules and tokens live
#                   (default ${XDG_CACHE_HOME:-$HOME/.cache}/entra-sim-interop)
#   SCIM2_PORT      default 8092        SCIMMY_PORT   default 8091
#   SCIM2_TOKEN     default: random      SCIMMY_TOKEN  default: random
#   PYTHON          a Python >= 3.11 (default: the first of python3.13 python3.12 python3.11 python3)
# Tokens are never printed: each is written (mode 600) to a file whose path is printed, which a
# job's `token_file:` can name. .ci/run runs check.sh, which runs check.py under this script.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cache="${INTEROP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/entra-sim-interop}"
scim2_version="0.8.3"
scim2_port="${SCIM2_PORT:-8092}"
scimmy_port="${SCIMMY_PORT:-8091}"
mkdir -p "$cache"

log() { printf '%s\n' "$*" >&2; }
now_ms() { date +%s%3N; }

find_python() {
    local candidates=("${PYTHON:-}" python3.13 python3.12 python3.11 python3)
    for py in "${candidates[@]}"; do
        [ -n "$py" ] && command -v "$py" >/dev/null 2>&1 || continue
        if "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$py"
            return
        fi
    done
    log "start.sh: scim2-server needs Python >= 3.11; set PYTHON to one"
    exit 1
}

install_scim2() {
    local venv="$cache/venv"
    if [ -x "$venv/bin/scim2-server" ] &&
        [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("scim2-server"))' 2>/dev/null)" = "$scim2_version" ]; then
        return
    fi
    local t0; t0=$(now_ms)
    rm -rf "$venv"
    "$(find_python)" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "scim2-server==$scim2_version"
    log "installed scim2-server $scim2_version in $(( $(now_ms) - t0 )) ms"
}

install_scimmy() {
    local dir="$cache/scimmy"
    mkdir -p "$dir"
    cp "$here/package.json" "$here/package-lock.json" "$here/scimmy-host.mjs" "$dir/"
    if [ -d "$dir/node_modules" ] && cmp -s "$here/package-lock.json" "$dir/node_modules/.package-lock.json.installed"; then
        return
    fi
    local t0; t0=$(now_ms)
    (cd "$dir" && npm ci --silent --no-audit --no-fund)
    cp "$here/package-lock.json" "$dir/node_modules/.package-lock.json.installed"
    log "installed scimmy, scimmy-routers and express in $(( $(now_ms) - t0 )) ms"
}

# A token: the caller's, or 32 random hex digits; written to a private file.
token_file() {
    local name=$1 given=$2 file="$cache/$1.token"
    (
        umask 077
        printf '%s' "${given:-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')}" >"$file"
        printf 'Authorization: Bearer %s\n' "$(cat "$file")" >"$file.header"
    )
    printf '%s' "$file"
}

# Waits until GET URL/ServiceProviderConfig answers 200 with the token (30 s at most).
wait_ready() {
    local name=$1 url=$2 file=$3 pid=$4 t0; t0=$(now_ms)
    for _ in $(seq 300); do
        kill -0 "$pid" 2>/dev/null || { log "$name exited; its log: $cache/$name.log"; exit 1; }
        local code
        code=$(curl -s -o /dev/null -w '%{http_code}' -H @"$file.header" \
            "$url/ServiceProviderConfig" || true)
        if [ "$code" = 200 ]; then
            log "$name ready in $(( $(now_ms) - t0 )) ms"
            return
        fi
        sleep 0.1
    done
    log "$name did not answer within 30 s; its log: $cache/$name.log"
    exit 1
}

pids=()
stop() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
}
trap stop EXIT
trap 'exit 130' INT TERM

install_scim2
install_scimmy

scim2_token_file=$(token_file scim2 "${SCIM2_TOKEN:-}")
scimmy_token_file=$(token_file scimmy "${SCIMMY_TOKEN:-}")

# scim2-server takes its token only as an argument (visible in ps on this machine only).
"$cache/venv/bin/scim2-server" --hostname 127.0.0.1 --port "$scim2_port" \
    --bearer-token "$(cat "$scim2_token_file")" >"$cache/scim2.log" 2>&1 &
pids+=($!)
SCIMMY_PORT="$scimmy_port" SCIMMY_TOKEN="$(cat "$scimmy_token_file")" \
    node "$cache/scimmy/scimmy-host.mjs" >"$cache/scimmy.log" 2>&1 &
pids+=($!)

export SCIM2_URL="http://127.0.0.1:$scim2_port/v2"
export SCIMMY_URL="http://127.0.0.1:$scimmy_port/scim"
export SCIM2_TOKEN_FILE="$scim2_token_file" SCIMMY_TOKEN_FILE="$scimmy_token_file"
wait_ready scim2 "$SCIM2_URL" "$scim2_token_file" "${pids[0]}"
wait_ready scimmy "$SCIMMY_URL" "$scimmy_token_file" "${pids[1]}"

echo "scim2-server $scim2_version  $SCIM2_URL   token file $scim2_token_file"
echo "SCIMMY 1.3.5          $SCIMMY_URL  token file $scimmy_token_file"

if [ $# -gt 0 ]; then
    status=0
    "$@" || status=$?
    exit "$status"
fi
log "serving until Ctrl-C"
wait "${pids[@]}"

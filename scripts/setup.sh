#!/usr/bin/env bash
# One-command, idempotent setup for a fresh Debian machine:
#   1. InfluxDB 1.x (Debian's `influxdb` package) when `influxd` is missing;
#   2. a real toxiproxy-server (already on PATH, or built with Go into ./tools/bin);
#   3. npm ci.
# Every step that cannot be done stops with one sentence saying what to install
# by hand; docker-compose.yml is the documented alternative for Docker users.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TOOLS_BIN="$ROOT/tools/bin"
TOXIPROXY_VERSION="v2.12.0"
export DEBIAN_FRONTEND=noninteractive

say() { printf '[setup] %s\n' "$*"; }
die() {
  printf '[setup] ERROR: %s\n' "$*" >&2
  printf '[setup] Alternative: run InfluxDB and Toxiproxy with Docker (docker compose up -d, see docker-compose.yml) and point the harness at them (README: "Pointing it at your own stack").\n' >&2
  exit 1
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo "$@"
  else return 126
  fi
}

apt_updated=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get is not available: install $* by hand (this script supports Debian and Ubuntu)."
  if [ "$apt_updated" -eq 0 ]; then
    as_root apt-get update -qq || die "'apt-get update' failed (are you root, and is the network up?): install $* by hand."
    apt_updated=1
  fi
  as_root apt-get install -y -qq "$@" >/dev/null || die "'apt-get install $*' failed: install $* by hand (needs root)."
}

# 1. InfluxDB -----------------------------------------------------------------
if command -v influxd >/dev/null 2>&1; then
  say "influxd present: $(influxd version 2>/dev/null | head -n1)"
else
  say "installing Debian's influxdb package"
  if [ "$(id -u)" -ne 0 ] && ! (command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null); then
    die "influxd is missing and this user cannot install packages: run 'sudo apt-get install -y influxdb' (or install InfluxDB 1.x so that 'influxd' is on PATH)."
  fi
  apt_install influxdb
  command -v influxd >/dev/null 2>&1 || die "the influxdb package installed but 'influxd' is still not on PATH: install InfluxDB 1.x by hand."
  say "influxd installed: $(influxd version 2>/dev/null | head -n1)"
fi

# 2. Toxiproxy ----------------------------------------------------------------
mkdir -p "$TOOLS_BIN"
if [ -x "$TOOLS_BIN/toxiproxy-server" ]; then
  say "toxiproxy-server present: $TOOLS_BIN/toxiproxy-server"
elif command -v toxiproxy-server >/dev/null 2>&1; then
  say "toxiproxy-server present on PATH: $(command -v toxiproxy-server)"
else
  command -v go >/dev/null 2>&1 || die "toxiproxy-server is missing and Go is not installed: install Go (apt-get install golang-go) or put a toxiproxy-server ${TOXIPROXY_VERSION} binary on PATH."
  say "building toxiproxy-server ${TOXIPROXY_VERSION} with the Go module proxy (about a minute the first time)"
  tmp_bin="$(mktemp -d)"
  if ! GOBIN="$tmp_bin" GOFLAGS=-mod=mod go install "github.com/Shopify/toxiproxy/v2/cmd/server@${TOXIPROXY_VERSION}"; then
    rm -rf "$tmp_bin"
    die "'go install github.com/Shopify/toxiproxy/v2/cmd/server@${TOXIPROXY_VERSION}' failed (see the error above): put a toxiproxy-server binary on PATH by hand."
  fi
  mv "$tmp_bin/server" "$TOOLS_BIN/toxiproxy-server"
  rm -rf "$tmp_bin"
  say "toxiproxy-server built: $TOOLS_BIN/toxiproxy-server"
fi

# 3. Chromium (optional: only the HTML report's rendering test needs it) --------
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian's chromium (for the HTML report rendering test)"
    if [ "$apt_updated" -eq 0 ]; then apt-get update -qq || true; apt_updated=1; fi
    apt-get install -y -qq chromium >/dev/null || say "chromium could not be installed: the HTML report rendering test will be skipped"
  else
    say "chromium not found: the HTML report rendering test will be skipped (apt-get install chromium to enable it)"
  fi
fi

# 4. Node dependencies ------------------------------------------------------------
command -v npm >/dev/null 2>&1 || die "npm is not installed: install Node.js 20 (with npm) by hand."
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || die "Node.js $(node --version) is too old: install Node.js 20 or newer."
say "npm ci"
(cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
say "done"

#!/usr/bin/env bash
# Installs the peers of the comparative benchmark (bench/targets/redis.ts, bench/targets/nats.ts):
# Debian's redis-server and nats-server, and checks that their npm clients (devDependencies) resolve.
# Idempotent: installs only what is missing. Starts no system service: the suite starts its own servers
# on 127.0.0.1 and random free ports. Needs root (or sudo) for apt-get.
set -euo pipefail
cd "$(dirname "$0")/../.."
export DEBIAN_FRONTEND=noninteractive

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo -E); else
    echo "peers: not root and no sudo: install redis-server and nats-server yourself" >&2
    exit 1
  fi
fi

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)

if [ "${#missing[@]}" -gt 0 ]; then
  # Don't let the packages' postinst start system services: policy-rc.d exit 101 = "action forbidden".
  # Only ours is removed afterwards; an existing policy-rc.d is left alone.
  policy=/usr/sbin/policy-rc.d
  own_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
    "${SUDO[@]}" chmod +x "$policy"
    own_policy=1
  fi
  trap 'if [ "$own_policy" = 1 ]; then "${SUDO[@]}" rm -f "$policy"; fi' EXIT
  install() {
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" >/dev/null
  }
  # Package lists may be missing (a fresh image) or stale (a 404 on install): update, then (re)try.
  if ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then
    echo "peers: apt-get update"
    "${SUDO[@]}" apt-get update -qq
  fi
  echo "peers: apt-get install -y ${missing[*]}"
  if ! install; then
    echo "peers: install failed; apt-get update and retry"
    "${SUDO[@]}" apt-get update -qq
    install
  fi
else
  echo "peers: redis-server and nats-server already installed"
fi

echo "peers: $(redis-server --version)"
echo "peers: $(nats-server --version)"

# The clients are devDependencies (package.json): `npm ci` installs them; this only checks they resolve.
clients=(@nats-io/transport-node @nats-io/jetstream)
bad=()
for client in "${clients[@]}"; do
  node --input-type=module -e "await import('$client')" 2>/dev/null || bad+=("$client")
done
if [ "${#bad[@]}" -gt 0 ]; then
  echo "peers: npm clients missing: ${bad[*]} (they are devDependencies: run npm ci)" >&2
  exit 1
fi
echo "peers: npm clients resolve: ${clients[*]}"

#!/usr/bin/env bash
# Keep previews away from the host: refuse every new connection that arrives from a preview's
# bridge (named pv-…, see previewBridgeName in functions/adapters/local/docker-task-runner.ts).
#
# A preview's bridge has no masquerading and the engine no IP forwarding, so nothing leaves the
# machine; but the host owns an address on every bridge and accepts connections to any of its
# addresses there, so without these rules a preview reaches whatever the host serves on 0.0.0.0.
# Answers to connections the host opens (the published port, health probes) stay allowed.
#
# Idempotent; needs root. Usage: scripts/docker/isolate-previews.sh
set -euo pipefail

die() { echo "isolate-previews: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "must run as root to change the host firewall"

bridges='pv-+'
added=0
ensure_rule() {
  local tool=$1 chain=$2
  shift 2
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found (Debian package iptables)"
  if ! "$tool" -C "$chain" -i "$bridges" "$@" 2>/dev/null; then
    "$tool" -I "$chain" -i "$bridges" "$@"
    added=$((added + 1))
  fi
}

for tool in iptables ip6tables; do
  ensure_rule "$tool" INPUT -m conntrack --ctstate NEW,INVALID -j REJECT
  ensure_rule "$tool" FORWARD -j DROP
done
echo "isolate-previews: host closed to preview bridges ($bridges; $added rules added)"

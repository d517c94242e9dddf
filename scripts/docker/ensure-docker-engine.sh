#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine; install and start one if not.
#
# Idempotent: if `docker info` already answers, nothing is changed.
# Otherwise Debian's docker.io is installed (only when dockerd is missing) and
# dockerd is started in the background:
#   - storage driver overlay2;
#   - --iptables=false and --ip-forward=false: previews get no outbound network,
#     while ports published on 127.0.0.1 still work through docker-proxy;
#   - networks from 10.200.0.0/16 in /28 blocks (DOCKERD_ADDRESS_POOL): each preview has a
#     network of its own, and Docker's default pools run out at about 30 networks; the default
#     bridge keeps Docker's usual 172.17.0.0/16 (--bip) rather than one /28 of that pool;
#   - log in <repo>/.local/dockerd.log.
# Either way the host firewall is then closed to previews (isolate-previews.sh).
# A newer docker client may already be on PATH (e.g. /usr/local/bin/docker);
# it negotiates down to the daemon's API version, which is checked below.
#
# Usage: scripts/docker/ensure-docker-engine.sh
# Env:   DOCKERD_WAIT_SECONDS (default 60)  how long to wait for the daemon.
#        DOCKERD_ADDRESS_POOL (default base=10.200.0.0/16,size=28)  where networks come from:
#          4096 networks of 14 addresses; a preview uses one (its containers share a namespace).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
log_dir="$repo_root/.local"
log_file="$log_dir/dockerd.log"
wait_seconds="${DOCKERD_WAIT_SECONDS:-60}"
address_pool="${DOCKERD_ADDRESS_POOL:-base=10.200.0.0/16,size=28}"

die() { echo "ensure-docker-engine: $*" >&2; exit 1; }

# Bounded: a half-started daemon can leave `docker info` hanging.
engine_answers() { timeout 10 docker info >/dev/null 2>&1; }

# The client must exist for any of this to be useful; docker.io brings one too.
have_client() { command -v docker >/dev/null 2>&1; }

isolate_previews() { bash "$repo_root/scripts/docker/isolate-previews.sh"; }

if have_client && engine_answers; then
  echo "ensure-docker-engine: engine already running ($(docker version --format 'client API {{.Client.APIVersion}}, server {{.Server.Version}} API {{.Server.APIVersion}}'))"
  isolate_previews
  exit 0
fi

[[ $(id -u) -eq 0 ]] || die "must run as root to install/start dockerd"

installed=""
if ! command -v dockerd >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  # Wait for other apt users instead of failing on the dpkg lock.
  apt_opts=(-o DPkg::Lock::Timeout=300 -o Acquire::Retries=3)
  apt-get "${apt_opts[@]}" update -qq
  apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends docker.io >/dev/null
  command -v dockerd >/dev/null 2>&1 || die "docker.io installed but dockerd not found"
  installed="installed docker.io, "
fi
have_client || die "no docker client on PATH"

# Another dockerd may be starting (e.g. a concurrent run of this script): only
# start one if no process owns the pid file.
pid_file=/var/run/docker.pid
started=""
daemon_pid=""
if [[ -s $pid_file ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
  daemon_pid="$(cat "$pid_file")"
  started="waited for running dockerd pid $daemon_pid"
else
  mkdir -p "$log_dir"
  # setsid + nohup: the daemon outlives this shell and its session.
  setsid nohup dockerd \
    --storage-driver overlay2 \
    --iptables=false \
    --ip-forward=false \
    --default-address-pool "$address_pool" \
    --bip 172.17.0.1/16 \
    >>"$log_file" 2>&1 </dev/null &
  daemon_pid=$!
  started="started dockerd pid $daemon_pid"
fi

deadline=$((SECONDS + wait_seconds))
until engine_answers; do
  if ! kill -0 "$daemon_pid" 2>/dev/null; then
    tail -n 20 "$log_file" >&2 2>/dev/null || true
    die "dockerd exited before answering (log: $log_file)"
  fi
  if ((SECONDS >= deadline)); then
    tail -n 20 "$log_file" >&2 2>/dev/null || true
    die "dockerd did not answer within ${wait_seconds}s (log: $log_file)"
  fi
  sleep 0.5
done

# The client may be much newer than Debian's daemon; make sure they negotiated.
versions="$(docker version --format '{{.Client.APIVersion}} {{.Server.Version}} {{.Server.APIVersion}}')" \
  || die "client and daemon did not negotiate an API version"
read -r client_api server_version server_api <<<"$versions"
echo "ensure-docker-engine: ${installed}${started} (server $server_version API $server_api, client API $client_api), log $log_file"
isolate_previews

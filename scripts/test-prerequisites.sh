#!/usr/bin/env bash
# What the test suite needs on this machine, installed or started when missing (idempotent):
#   - a Docker engine and the offline base images (python:3.11-slim, postgres:15);
#   - Debian's FastAPI stack for the host's python3, used by the process runner's tests;
#   - Debian's Chromium, which the web console's test drives headless.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/docker/ensure-docker-engine.sh
bash scripts/images/build-base-images.sh

apt_opts=(-o DPkg::Lock::Timeout=300 -o Acquire::Retries=3)
apt_updated=false
# Installs Debian packages, as root, updating the package lists once per run.
apt_install() {
  [[ $(id -u) -eq 0 ]] || { echo "test-prerequisites: run as root once to install: $*" >&2; exit 1; }
  if [[ $apt_updated == false ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update -qq
    apt_updated=true
  fi
  DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! /usr/bin/python3 -c 'import fastapi, uvicorn, sqlalchemy, alembic' 2>/dev/null; then
  apt_install python3-fastapi uvicorn python3-sqlalchemy alembic python-is-python3
  echo "test-prerequisites: installed Debian's FastAPI stack for the process runner"
fi

if [[ ! -x /usr/bin/chromium ]]; then
  apt_install chromium
  echo "test-prerequisites: installed Debian's Chromium for the web console's test"
fi

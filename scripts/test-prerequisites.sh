#!/usr/bin/env bash
# What the test suite needs on this machine, installed or started when missing (idempotent):
#   - a Docker engine and the offline base images (python:3.11-slim, postgres:15);
#   - Debian's FastAPI stack for the host's python3, used by the process runner's tests.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/docker/ensure-docker-engine.sh
bash scripts/images/build-base-images.sh

if ! /usr/bin/python3 -c 'import fastapi, uvicorn, sqlalchemy, alembic' 2>/dev/null; then
  [[ $(id -u) -eq 0 ]] || { echo "test-prerequisites: run as root once to install Debian's python3-fastapi" >&2; exit 1; }
  apt_opts=(-o DPkg::Lock::Timeout=300 -o Acquire::Retries=3)
  DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends \
    python3-fastapi uvicorn python3-sqlalchemy alembic python-is-python3 >/dev/null
  echo "test-prerequisites: installed Debian's FastAPI stack for the process runner"
fi

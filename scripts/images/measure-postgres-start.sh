#!/usr/bin/env bash
# Time a PostgreSQL sidecar's first start: from `docker start` of a fresh
# container (new, empty volume) until `pg_isready` over TCP succeeds inside it,
# the check the preview task uses (polled back to back with `docker exec`, as
# the runner does every 100 ms, so ~0.1 s resolution). The container is created with the flags the
# Docker task runner uses for the database container (functions/core/
# task-definition.ts, functions/adapters/local/docker-task-runner.ts): its own
# bridge network, --init, no-new-privileges, all capabilities dropped, uid
# 999:999, 256 MB, 0.5 CPU, 256 pids, fsync=off.
#
# Everything it creates carries the label preview.test=manual and is removed
# at the end (also on Ctrl-C).
#
# Usage: scripts/images/measure-postgres-start.sh [runs] [image]
#   runs   how many fresh starts to time (default 5); prints each and the median
#   image  default postgres:15
# Env: INITDB_ARGS  POSTGRES_INITDB_ARGS (default --no-sync, as previews set
#      it); e.g. "--no-sync --encoding=UTF8" times the initdb path instead.
set -euo pipefail

runs="${1:-5}"
image="${2:-postgres:15}"
initdb_args="${INITDB_ARGS:---no-sync}"
name="pgstart-$$"
labels=(--label preview.test=manual)

remove_container() {
  docker rm -f "$name" >/dev/null 2>&1 || true
  docker volume rm "$name" >/dev/null 2>&1 || true
}
cleanup() {
  remove_container
  docker network rm "$name" >/dev/null 2>&1 || true
}
trap cleanup EXIT

now_ms() { date +%s%3N; }

docker network create "${labels[@]}" -o com.docker.network.bridge.enable_ip_masquerade=false \
  "$name" >/dev/null

times=()
for ((i = 1; i <= runs; i++)); do
  remove_container
  docker volume create "${labels[@]}" "$name" >/dev/null
  docker create "${labels[@]}" --name "$name" --network "$name" \
    --init --security-opt no-new-privileges:true --cap-drop ALL \
    --memory 256m --memory-swap 256m --cpus 0.5 --pids-limit 256 \
    --user 999:999 --log-opt max-size=10m --log-opt max-file=2 \
    --mount "type=volume,source=$name,target=/var/lib/postgresql/data" \
    -e POSTGRES_USER=preview -e POSTGRES_DB=preview \
    -e "POSTGRES_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')" \
    -e "POSTGRES_INITDB_ARGS=$initdb_args" -e PGDATA=/var/lib/postgresql/data/pgdata \
    --health-cmd 'pg_isready -q -h 127.0.0.1 -U preview -d preview' \
    --health-interval 5s --health-timeout 5s --health-retries 10 --health-start-period 30s \
    "$image" postgres -c fsync=off 2> >(grep -v "IPv4 forwarding" >&2) >/dev/null
  start=$(now_ms)
  docker start "$name" >/dev/null
  until docker exec "$name" pg_isready -q -h 127.0.0.1 -U preview -d preview 2>/dev/null; do
    if [[ $(docker inspect -f '{{.State.Running}}' "$name") != true ]]; then
      docker logs --tail 30 "$name" >&2
      echo "measure-postgres-start: the container stopped" >&2
      exit 1
    fi
    if (($(now_ms) - start > 60000)); then echo "measure-postgres-start: timed out" >&2; exit 1; fi
  done
  ms=$(($(now_ms) - start))
  times+=("$ms")
  echo "run $i: ${ms} ms"
done

median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }')
echo "median of $runs: ${median} ms ($image)"

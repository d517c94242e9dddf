#!/usr/bin/env bash
# Build the base images that generated apps and their databases start FROM,
# offline, from Debian bookworm packages (no image registry is reachable here):
#
#   python:3.11-slim   Debian's python3 (3.11) + pip + the FastAPI stack, the
#                      servers and drivers generated apps use (gunicorn, asyncpg)
#                      and psql for seeds written as .sql files
#   postgres:15        Debian's postgresql (15) with an entrypoint that behaves
#                      like the official image's for what previews use
#
# How: one `debootstrap --variant=minbase` root fs (cached in .local/images/),
# copied per image, packages installed with apt-get in a chroot, then
# `docker import` with the image config (ENV, CMD, ...) and a recipe label.
# Re-runs skip an image whose tag already carries the current recipe label (a
# hash of the recipe: its package list, image settings and build functions), so
# adding a package here rebuilds that image on the next run, and only it;
# the root fs trees and .deb downloads are cached, so a rebuild after a recipe
# change does not start from scratch.
#
# What a generated app's requirements.txt may say (pip runs with PIP_NO_INDEX,
# PIP_NO_DEPS and PIP_BREAK_SYSTEM_PACKAGES, so an already-installed Debian
# package satisfies a requirement; nothing can be downloaded):
#   - names as Debian's metadata spells them: fastapi, uvicorn (extras such as
#     uvicorn[standard] are accepted; their deps are not checked), sqlalchemy,
#     psycopg2, alembic, pydantic, starlette, gunicorn, asyncpg, greenlet.
#     Debian's psycopg2 alone would not satisfy `psycopg2-binary` (another
#     project name); this image adds an alias so both names work. The examples
#     use `psycopg2`.
#   - versions that Debian bookworm ships: unpinned, or ranges matching
#     fastapi 0.92.0, starlette 0.26.1, uvicorn 0.17.6, SQLAlchemy 1.4.46
#     (1.x API, with its asyncio extension), psycopg2 2.9.5, alembic 1.8.1.dev0,
#     pydantic 1.10.4 (v1 API: orm_mode), Mako 1.2.4.dev0, gunicorn 20.1.0,
#     asyncpg 0.27.0, greenlet 2.0.2, pip 23.0.1. A pin to any other version fails
#     the build. alembic is a .dev0 pre-release by its metadata: `alembic>=1.8`
#     works, `alembic==1.8.1` and `alembic>=1.8.1` do not.
#
# postgres:15 notes: env POSTGRES_PASSWORD (required unless
# POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_USER (default postgres),
# POSTGRES_DB (default = user), POSTGRES_INITDB_ARGS, /docker-entrypoint-initdb.d
# (*.sh, *.sql). PGDATA=/var/lib/postgresql/data (a VOLUME, as upstream).
# A first start copies a cluster that initdb made at build time
# (/var/lib/postgresql/template), then renames its superuser and spare
# database and sets the password in single-user mode: ~1 s from `docker start`
# to ready at half a CPU, against 4-6 s with initdb (measured with
# scripts/images/measure-postgres-start.sh). initdb still runs for
# POSTGRES_INITDB_ARGS other than --no-sync, LANG other than C.UTF-8, LC_*/TZ
# set, a uid other than 999, or a PGDATA that is not empty.
# As upstream, local socket and 127.0.0.1 connections are trusted (initdb's
# defaults); other addresses need the password. The postgres user is uid/gid
# 999 as upstream. Hardened runs: `--user 999:999 --cap-drop ALL --read-only
# --tmpfs /var/run/postgresql` works (tested). Started as root instead, the
# entrypoint needs CHOWN/SETUID/SETGID/DAC_OVERRIDE/FOWNER, and with --init
# tini (still root, but without CAP_KILL) cannot forward `docker stop`'s
# signal to postgres.
#
# Usage: scripts/images/build-base-images.sh [--force]
#   --force            rebuild images even if their recipe label matches
# Env: DEBIAN_MIRROR (default http://deb.debian.org/debian)
#      DEBIAN_SECURITY_MIRROR (default http://deb.debian.org/debian-security)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$repo_root/.local/images"
logs="$work/logs"

# Bump to force a rebuild when something outside the hashed functions changes.
RECIPE_VERSION=1
SUITE=bookworm
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
LABEL_KEY=preview.base-image.recipe
BASE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

PY_TAG=python:3.11-slim
PY_PACKAGES=(python3 python-is-python3 python3-pip python3-fastapi uvicorn
  python3-sqlalchemy python3-psycopg2 alembic python3-pydantic gunicorn
  python3-asyncpg python3-greenlet postgresql-client)
PY_CHANGES=(
  "ENV PATH=$BASE_PATH"
  "ENV LANG=C.UTF-8"
  "ENV PYTHONUNBUFFERED=1"
  "ENV PIP_NO_INDEX=1"
  "ENV PIP_NO_DEPS=1"
  "ENV PIP_BREAK_SYSTEM_PACKAGES=1"
  "ENV PIP_DISABLE_PIP_VERSION_CHECK=1"
  "ENV PIP_ROOT_USER_ACTION=ignore"
  'CMD ["python3"]'
)

PG_TAG=postgres:15
PG_MAJOR=15
PG_CHANGES=(
  "ENV PATH=$BASE_PATH:/usr/lib/postgresql/$PG_MAJOR/bin"
  "ENV LANG=C.UTF-8"
  "ENV PG_MAJOR=$PG_MAJOR"
  "ENV PGDATA=/var/lib/postgresql/data"
  "VOLUME /var/lib/postgresql/data"
  "EXPOSE 5432"
  "STOPSIGNAL SIGINT"
  'ENTRYPOINT ["docker-entrypoint.sh"]'
  'CMD ["postgres"]'
  # In a container of the image itself, so the template is what initdb makes there.
  'RUN ["make-cluster-template"]'
)

force=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

die() { echo "build-base-images: $*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }
say() { echo "build-base-images: $*"; }

# ---------------------------------------------------------------- chroot helpers

# Run a command inside a root fs with /proc mounted and, optionally, a host
# directory as apt's archive cache (so .deb downloads survive between builds).
in_root() {
  local root="$1" cache="$2"; shift 2
  local rc=0
  mount -t proc proc "$root/proc"
  if [[ -n $cache ]]; then
    mkdir -p "$cache/partial"
    mount --bind "$cache" "$root/var/cache/apt/archives"
  fi
  chroot "$root" /usr/bin/env -i PATH="$BASE_PATH" HOME=/root LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive "$@" || rc=$?
  [[ -z $cache ]] || umount "$root/var/cache/apt/archives"
  umount "$root/proc"
  return "$rc"
}

# apt-get install, refreshing the (cached, maybe stale) package lists on failure.
apt_install() {
  local root="$1" cache="$2"; shift 2
  in_root "$root" "$cache" apt-get install -y -q "$@" ||
    { in_root "$root" "" apt-get update -q && in_root "$root" "$cache" apt-get install -y -q "$@"; }
}

# Trim what an image does not need; keeps Python byte code (the apps run with a
# read-only root fs and cannot write it themselves).
slim_root() {
  local root="$1"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
    "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/debconf/*-old \
    "$root"/var/lib/dpkg/*-old "$root"/var/log/apt/* "$root"/tmp/* "$root"/root/.cache
  find "$root/var/log" -type f -exec truncate -s 0 {} +
  rm -f "$root/etc/resolv.conf" && : >"$root/etc/resolv.conf"
}

# ---------------------------------------------------------------- recipes

# The shared minbase root fs, prepared like debian:bookworm-slim.
build_base() {
  local root="$1"
  mkdir -p "$work/cache/debootstrap"
  debootstrap --variant=minbase --cache-dir="$work/cache/debootstrap" \
    "$SUITE" "$root" "$MIRROR"
  cat >"$root/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY_MIRROR $SUITE-security main
EOF
  # No services start inside the build chroot.
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"
  cat >"$root/etc/apt/apt.conf.d/90preview" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
EOF
  # As in Debian's slim images: no docs/man pages/translations in the images.
  cat >"$root/etc/dpkg/dpkg.cfg.d/90preview" <<'EOF'
force-unsafe-io
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
EOF
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/*
  rm -f "$root/etc/resolv.conf" && cp -L /etc/resolv.conf "$root/etc/resolv.conf"
  in_root "$root" "" apt-get update -q
  in_root "$root" "$work/cache/apt-base" apt-get dist-upgrade -y -q
  rm -rf "$root"/var/cache/apt/*.bin
}

build_python() {
  local root="$1" dp info ver
  apt_install "$root" "$work/cache/apt-python" "${PY_PACKAGES[@]}"
  # Generated apps usually ask for psycopg2-binary; PyPI's psycopg2-binary is
  # the same module as Debian's psycopg2, so let that name be satisfied too.
  dp="$root/usr/lib/python3/dist-packages"
  info="$(cd "$dp" && ls -d psycopg2-*.egg-info)"
  ver="${info#psycopg2-}" && ver="${ver%.egg-info}"
  mkdir -p "$dp/psycopg2_binary-$ver.egg-info"
  printf 'Metadata-Version: 1.1\nName: psycopg2-binary\nVersion: %s\nSummary: %s\n' "$ver" \
    "alias of psycopg2 (Debian python3-psycopg2)" >"$dp/psycopg2_binary-$ver.egg-info/PKG-INFO"
  slim_root "$root"
}

build_postgres() {
  local root="$1"
  # uid/gid 999 like the official image, so --user 999:999 means the same there.
  in_root "$root" "" groupadd -r postgres --gid=999
  in_root "$root" "" useradd -r -g postgres --uid=999 --home-dir=/var/lib/postgresql \
    --shell=/bin/bash postgres
  mkdir -p "$root/var/lib/postgresql"
  apt_install "$root" "$work/cache/apt-postgres" postgresql-common
  # The entrypoint creates the cluster in PGDATA, not the package.
  sed -ri 's/#(create_main_cluster) .*$/\1 = false/' "$root/etc/postgresql-common/createcluster.conf"
  apt_install "$root" "$work/cache/apt-postgres" postgresql "postgresql-$PG_MAJOR"
  sed -ri "s!^#?(listen_addresses)\s*=\s*\S+.*!\1 = '*'!" \
    "$root/usr/share/postgresql/$PG_MAJOR/postgresql.conf.sample"
  # Inside the chroot: /var/run is an absolute symlink that would lead to the host.
  in_root "$root" "" sh -ec '
    mkdir -p /var/run/postgresql /var/lib/postgresql/data /docker-entrypoint-initdb.d
    chown -R postgres:postgres /var/run/postgresql /var/lib/postgresql
    chmod 3777 /var/run/postgresql
    chmod 1777 /var/lib/postgresql/data'
  postgres_entrypoint >"$root/usr/local/bin/docker-entrypoint.sh"
  postgres_template_maker >"$root/usr/local/bin/make-cluster-template"
  chmod 755 "$root/usr/local/bin/docker-entrypoint.sh" "$root/usr/local/bin/make-cluster-template"
  slim_root "$root"
}

postgres_template_maker() {
  cat <<'MAKER'
#!/bin/sh
# Makes the cluster the entrypoint copies on a first start: initdb's output
# plus a spare database, which the entrypoint renames to POSTGRES_DB (cheaper
# than CREATE DATABASE at start). Its superuser is "postgres", without password.
set -eu
# shellcheck disable=SC2016 # expanded by the inner shell
exec setpriv --reuid=postgres --regid=postgres --init-groups sh -euc '
  initdb -D "$1" --username=postgres --no-sync --no-instructions
  echo "CREATE DATABASE $2;" | postgres --single -D "$1" -c fsync=off postgres >/dev/null
' make-cluster-template /var/lib/postgresql/template first_start
MAKER
}

postgres_entrypoint() {
  cat <<'ENTRYPOINT'
#!/usr/bin/env bash
# Entrypoint compatible with the official postgres image for the common
# settings: POSTGRES_PASSWORD, POSTGRES_USER, POSTGRES_DB,
# POSTGRES_HOST_AUTH_METHOD, POSTGRES_INITDB_ARGS, /docker-entrypoint-initdb.d.
#
# First start: rather than run initdb (seconds at half a CPU), copy the cluster
# initdb made when the image was built (/var/lib/postgresql/template), then, in
# single-user mode, give its bootstrap superuser the requested name and
# password and its spare database the requested name: the same cluster as
# initdb would make here. initdb still runs when a copy could not stand for it:
# POSTGRES_INITDB_ARGS other than --no-sync, other locale or time zone
# settings, a user that cannot read the template, a PGDATA that is not empty.
set -Eeo pipefail

template=/var/lib/postgresql/template
template_db=first_start
template_lang=C.UTF-8
# initdb options that change nothing in what it makes.
inert_initdb_args=" --no-sync -N --no-instructions "

if [[ ${1:0:1} == - ]]; then set -- postgres "$@"; fi

sql_literal() { printf "'%s'" "${1//\'/\'\'}"; }
sql_ident() { printf '"%s"' "${1//\"/\"\"}"; }

template_fits() {
  local arg
  [[ -r $template/PG_VERSION && $fill == fill_pgdata ]] || return 1
  [[ ${LANG:-} == "$template_lang" && -z ${LC_ALL:-}${LC_COLLATE:-}${LC_CTYPE:-} ]] || return 1
  [[ -z ${LC_MESSAGES:-}${LC_MONETARY:-}${LC_NUMERIC:-}${LC_TIME:-}${TZ:-}${PGTZ:-} ]] || return 1
  # initdb refuses these names; let it say so.
  [[ $POSTGRES_USER != pg_* ]] || return 1
  set -f
  for arg in $POSTGRES_INITDB_ARGS; do
    [[ $inert_initdb_args == *" $arg "* ]] || { set +f; return 1; }
  done
  set +f
}

# Fills the empty PGDATA with the tree that `"$@" <new directory>` makes.
# Creating its ~1300 files is most of a first start's cost. ext4 puts new
# files in their directory's block group and a subdirectory near its parent;
# where inodes were freed recently (Docker's volumes churn) each new file then
# costs ~0.5 ms of CPU on a journal-less ext4 (seen here), not ~0.02 ms. A
# subdirectory of a "top" directory (chattr +T) goes to a group picked from
# its name's hash instead: make the tree under a random name, move it up.
# Where chattr is refused (other file systems), nothing changes.
fill_pgdata() {
  local stage="$PGDATA/.init-$RANDOM$RANDOM"
  chattr +T "$PGDATA" 2>/dev/null || :
  "$@" "$stage"
  shopt -s dotglob
  mv "$stage"/* "$PGDATA/"
  shopt -u dotglob
  rmdir "$stage"
}

in_pgdata() { "$@" "$PGDATA"; }

# Empties a half-made PGDATA, so that the next start initialises it afresh.
init_failed() {
  trap - ERR
  echo "error: initialisation failed; emptying $PGDATA for the next start" >&2
  pg_ctl -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || :
  find "$PGDATA" -mindepth 1 -delete || :
}

if [[ $1 == postgres ]]; then
  : "${PGDATA:=/var/lib/postgresql/data}"
  export PGDATA
  if [[ $(id -u) == 0 ]]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 00700 "$PGDATA"
    chmod 03775 /var/run/postgresql || :
    exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
  fi

  if [[ ! -s $PGDATA/PG_VERSION ]]; then
    : "${POSTGRES_USER:=postgres}"
    : "${POSTGRES_DB:=$POSTGRES_USER}"
    : "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
    if [[ -z ${POSTGRES_PASSWORD:-} && $POSTGRES_HOST_AUTH_METHOD != trust ]]; then
      echo "error: POSTGRES_PASSWORD is not set (or set POSTGRES_HOST_AUTH_METHOD=trust)" >&2
      exit 1
    fi
    # Its first line, as initdb --pwfile reads it.
    password="${POSTGRES_PASSWORD:-}" && password="${password%%$'\n'*}"
    mkdir -p "$PGDATA"
    chmod 00700 "$PGDATA" || :
    # A PGDATA with something in it already is not ours to fill, or to empty
    # on failure: initdb says what is wrong with it.
    if [[ -z $(ls -A "$PGDATA") ]]; then
      fill=fill_pgdata
      trap init_failed ERR
    else
      fill=in_pgdata
    fi

    sql=()
    if template_fits; then
      "$fill" cp -a "$template"
      # ALTER ROLE cannot rename the session user, which the bootstrap
      # superuser (oid 10) is in single-user mode.
      [[ $POSTGRES_USER == postgres ]] ||
        sql+=("UPDATE pg_authid SET rolname = $(sql_literal "$POSTGRES_USER") WHERE oid = 10;")
      [[ -z $password ]] ||
        sql+=("ALTER ROLE $(sql_ident "$POSTGRES_USER") PASSWORD $(sql_literal "$password");")
      if [[ $POSTGRES_DB == postgres ]]; then
        sql+=("DROP DATABASE $template_db;")
      elif [[ $POSTGRES_DB != "$template_db" ]]; then
        sql+=("ALTER DATABASE $template_db RENAME TO $(sql_ident "$POSTGRES_DB");")
      fi
    else
      # Instructions would name the temporary directory.
      # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a word list by design
      run_initdb() { initdb --username="$POSTGRES_USER" --no-instructions "$@" $POSTGRES_INITDB_ARGS; }
      if [[ -n $password ]]; then
        "$fill" run_initdb --pwfile=<(printf '%s\n' "$password") -D
      else
        "$fill" run_initdb -D
      fi
      [[ $POSTGRES_DB == postgres ]] || sql+=("CREATE DATABASE $(sql_ident "$POSTGRES_DB");")
    fi
    if ((${#sql[@]})); then
      # One statement a line; the server's own options (fsync=off, ...) apply.
      # A failing statement is not logged: it may hold the password.
      printf '%s\n' "${sql[@]}" |
        postgres --single -D "$PGDATA" -c exit_on_error=on -c log_min_error_statement=panic \
          -c log_checkpoints=off "${@:2}" postgres >/dev/null
    fi
    unset password sql
    printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"

    scripts=(/docker-entrypoint-initdb.d/*)
    if [[ -e ${scripts[0]} ]]; then
      # Local socket only while initialising, so nobody connects half-way.
      pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p ${PGPORT:-5432}" -w start
      psql_cmd=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
      for f in "${scripts[@]}"; do
        # shellcheck source=/dev/null
        case "$f" in
          *.sh) echo "running $f"; . "$f" ;;
          *.sql) echo "running $f"; "${psql_cmd[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
          *) echo "ignoring $f" ;;
        esac
      done
      pg_ctl -D "$PGDATA" -m fast -w stop
    fi
    trap - ERR
    echo "PostgreSQL init process complete; ready for start up."
  fi
fi

exec "$@"
ENTRYPOINT
}

# Recipe ids: a hash of everything that shapes the image, so an edit to a
# recipe above rebuilds exactly the images it affects.
recipe_hash() { sha256sum | cut -c1-16; }
base_id="$( { echo "$RECIPE_VERSION $SUITE $MIRROR $SECURITY_MIRROR"; declare -f in_root build_base; } | recipe_hash)"
py_id="$( { echo "$base_id"; declare -p PY_PACKAGES PY_CHANGES; declare -f apt_install slim_root build_python; } | recipe_hash)"
pg_id="$( { echo "$base_id $PG_MAJOR"; declare -p PG_CHANGES; declare -f apt_install slim_root build_postgres postgres_entrypoint postgres_template_maker; } | recipe_hash)"

# ---------------------------------------------------------------- main

t_total=$(now)
"$repo_root/scripts/docker/ensure-docker-engine.sh"

mkdir -p "$work/rootfs" "$work/cache" "$logs"
# One build at a time per checkout (others may run this concurrently).
exec 9>"$work/.lock"
flock 9

image_recipe() { docker image inspect -f "{{ index .Config.Labels \"$LABEL_KEY\" }}" "$1" 2>/dev/null || true; }

declare -A want=([python]="$py_id" [postgres]="$pg_id")
declare -A tag=([python]="$PY_TAG" [postgres]="$PG_TAG")
todo=()
for name in python postgres; do
  if [[ $force == 0 && $(image_recipe "${tag[$name]}") == "${want[$name]}" ]]; then
    say "${tag[$name]} up to date (recipe ${want[$name]})"
  else
    todo+=("$name")
  fi
done
if ((${#todo[@]} == 0)); then
  say "nothing to build ($(elapsed "$t_total"))"
  exit 0
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  t=$(now)
  apt_opts=(-o DPkg::Lock::Timeout=300 -o Acquire::Retries=3)
  DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends debootstrap >/dev/null
  say "installed debootstrap: $(elapsed "$t")"
fi

# Unmounts what an interrupted build may have left mounted, then deletes the
# tree without ever crossing into another file system.
remove_tree() {
  local dir="$1" m
  for m in "$dir/var/cache/apt/archives" "$dir/proc"; do
    if mountpoint -q "$m" 2>/dev/null; then umount "$m"; fi
  done
  rm -rf --one-file-system "$dir"
}

# Build trees in <name>.tmp and rename when done, so a cached tree is always whole.
build_tree() {
  local name="$1" id="$2" fn="$3" src="${4:-}"
  local dir="$work/rootfs/$name" t
  if [[ -d $dir && $(cat "$dir.recipe" 2>/dev/null) == "$id" ]]; then
    say "root fs $name cached"
    return 0
  fi
  t=$(now)
  remove_tree "$dir.tmp"
  remove_tree "$dir"
  rm -f "$dir.recipe"
  if [[ -n $src ]]; then cp -a "$src" "$dir.tmp"; fi
  # As a background job so errexit applies inside the recipe function
  # (it is ignored in an `if` condition).
  "$fn" "$dir.tmp" >"$logs/$name.log" 2>&1 &
  if ! wait "$!"; then
    # Leave no mounts behind in a failed tree.
    remove_tree "$dir.tmp" || true
    tail -n 30 "$logs/$name.log" >&2
    die "building root fs $name failed (log: $logs/$name.log)"
  fi
  mv "$dir.tmp" "$dir"
  echo "$id" >"$dir.recipe"
  say "root fs $name built: $(elapsed "$t")"
}

build_tree base "$base_id" build_base

# The two image trees are independent: build them side by side.
pids=()
for name in "${todo[@]}"; do
  build_tree "$name" "${want[$name]}" "build_$name" "$work/rootfs/base" &
  pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
((failed == 0)) || die "a root fs build failed"

import_image() {
  local name="$1" ref="${tag[$1]}" id="${want[$1]}" t old imported c
  local -n change_list="$2"
  local changes=() build_only=()
  t=$(now)
  old="$(docker image inspect -f '{{.Id}}' "$ref" 2>/dev/null || true)"
  for c in "${change_list[@]}" "LABEL $LABEL_KEY=$id"; do
    # `docker import --change` rejects STOPSIGNAL and RUN; a build adds them.
    case "$c" in
      STOPSIGNAL*|RUN*) build_only+=("$c") ;;
      *) changes+=(--change "$c") ;;
    esac
  done
  imported="$(tar -C "$work/rootfs/$name" --numeric-owner --xattrs -c . |
    docker import "${changes[@]}" --message "$ref from Debian $SUITE (recipe $id)" -)"
  if ((${#build_only[@]})); then
    printf '%s\n' "FROM $imported" "${build_only[@]}" |
      DOCKER_BUILDKIT=0 docker build --network none --force-rm -q -t "$ref" - >/dev/null 2>"$logs/$name-build.log" ||
      { cat "$logs/$name-build.log" >&2; die "build of $ref on the imported image failed"; }
    docker image rm "$imported" >/dev/null 2>&1 || true
  else
    docker tag "$imported" "$ref"
  fi
  # Drop the image this one replaces unless something still uses it.
  if [[ -n $old && $old != "$(docker image inspect -f '{{.Id}}' "$ref")" ]]; then
    docker image rm "$old" >/dev/null 2>&1 || true
  fi
  say "imported $ref: $(elapsed "$t")"
}

# Smoke tests: the tools are there, and pip accepts a typical requirements file offline.
check_python() {
  docker run --rm --network none "$PY_TAG" sh -ec '
    python --version; uvicorn --version; alembic --version; gunicorn --version; psql --version
    pip --version
    printf "fastapi\nuvicorn[standard]\nsqlalchemy>=1.4\npsycopg2>=2.9\npsycopg2-binary\nalembic>=1.8\npydantic<2\ngunicorn>=20\nasyncpg>=0.27\n" >/tmp/requirements.txt
    pip install --no-cache-dir -r /tmp/requirements.txt | tail -n 1
    python -c "import fastapi, sqlalchemy.ext.asyncio, psycopg2, alembic, pydantic, asyncpg, uvicorn.workers; print(\"imports ok\")"'
}
check_postgres() {
  docker run --rm --network none "$PG_TAG" sh -ec 'postgres --version; pg_isready --version; id postgres'
  # A first start the way a preview's sidecar makes it (hardened, from the
  # template); then the requested role, database and password work, and a
  # wrong password is refused from a non-local address.
  local c="build-base-images-check-$$" password="it's \"s3cret\"" ip i rc=0
  docker run -d --name "$c" --user 999:999 --cap-drop ALL --read-only --tmpfs /var/run/postgresql \
    -e POSTGRES_USER=check -e POSTGRES_DB=check_db -e "POSTGRES_PASSWORD=$password" \
    -e POSTGRES_INITDB_ARGS=--no-sync "$PG_TAG" postgres -c fsync=off 2> >(grep -v 'IPv4 forwarding' >&2) >/dev/null
  for ((i = 0; i < 100; i++)); do
    if docker exec "$c" pg_isready -q -h 127.0.0.1 -U check -d check_db; then break; fi
    sleep 0.2
  done
  ip="$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$c")"
  docker exec -e PGPASSWORD="$password" "$c" \
    psql -h "$ip" -U check -d check_db -Atc 'select current_user, current_database()' || rc=1
  if docker exec -e PGPASSWORD=wrong "$c" psql -h "$ip" -U check -d check_db -c '' 2>/dev/null; then
    echo "a wrong password was accepted" >&2 && rc=1
  fi
  if docker logs "$c" 2>&1 | grep -q 'initdb'; then echo "initdb ran: the template was not used" >&2 && rc=1; fi
  ((rc == 0)) || docker logs --tail 30 "$c" >&2
  docker rm -f -v "$c" >/dev/null
  return "$rc"
}

for name in "${todo[@]}"; do
  case "$name" in
    python) import_image python PY_CHANGES ;;
    postgres) import_image postgres PG_CHANGES ;;
  esac
  t=$(now)
  "check_$name" | sed "s/^/  [$name] /"
  say "checked ${tag[$name]}: $(elapsed "$t")"
done

docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E "^($PY_TAG|$PG_TAG) " | sed 's/^/  /'
say "done: $(elapsed "$t_total")"

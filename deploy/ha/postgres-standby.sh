#!/bin/bash
# The streaming standby of docker-compose.yml's `ha` profile. On an empty
# volume it copies the primary (pg_basebackup -R: standby.signal and the
# primary's address), then runs PostgreSQL as a hot standby. Promote it with
#   docker compose exec postgres-standby pg_ctl promote
# (Kalata's DATABASE_URL names both hosts with target_session_attrs=read-write,
# and follows the promotion by itself).
set -euo pipefail
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_basebackup -h "${PRIMARY_HOST:-postgres}" -U "${POSTGRES_USER:-kalata}" -D "$PGDATA" -R -X stream --checkpoint=fast; do
    echo "waiting for the primary to accept a base backup..." >&2
    rm -rf "${PGDATA:?}"/*
    sleep 3
  done
  chmod 700 "$PGDATA"
fi
exec postgres

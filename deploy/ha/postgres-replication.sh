#!/bin/bash
# Run once by the postgres image on an empty data volume (docker-entrypoint-initdb.d):
# lets the `ha` profile's standby copy and follow this server as user kalata.
set -euo pipefail
echo "host replication ${POSTGRES_USER} all scram-sha-256" >> "$PGDATA/pg_hba.conf"

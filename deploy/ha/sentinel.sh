#!/bin/sh
# A Redis Sentinel of docker-compose.yml's `ha` profile. Its file is written
# once, in the container's own /data volume: Sentinel rewrites it as it learns
# the group (and after a failover, which node is the primary), so a restarted
# Sentinel goes on from what it knew rather than from the first primary.
set -eu
conf=/data/sentinel.conf
if [ ! -f "$conf" ]; then
  cat > "$conf" <<CONF
port 26379
sentinel resolve-hostnames yes
sentinel announce-hostnames yes
sentinel monitor ${REDIS_SENTINEL_NAME:-kalata} redis 6379 2
sentinel down-after-milliseconds ${REDIS_SENTINEL_NAME:-kalata} ${SENTINEL_DOWN_AFTER_MS:-5000}
sentinel failover-timeout ${REDIS_SENTINEL_NAME:-kalata} 60000
sentinel parallel-syncs ${REDIS_SENTINEL_NAME:-kalata} 1
CONF
fi
exec redis-server "$conf" --sentinel

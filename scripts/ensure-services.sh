#!/usr/bin/env bash
# Starts the local PostgreSQL and NATS JetStream servers if they are not answering (commands from the
# machine notes); the contract and integration suites connect to them for real.
set -u
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! port_open 5432; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
if ! port_open 4222; then
  echo "starting NATS JetStream"
  mkdir -p /var/lib/nats-server
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log || true
fi
for i in $(seq 1 30); do
  if port_open 5432 && port_open 4222; then exit 0; fi
  sleep 1
done
echo "warning: PostgreSQL or NATS is still not answering on 127.0.0.1" >&2
exit 0

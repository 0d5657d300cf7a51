#!/usr/bin/env bash
# Starts dockerd in the background when it is not already answering, then waits until its socket
# answers. Installs nothing (.ci/run apt-installs docker.io, docker-compose and git first).
set -euo pipefail

if docker info >/dev/null 2>&1; then
  echo "dockerd already running"
  # Networks that earlier runs on this machine left without a container each hold one of dockerd's ~30
  # default address pools; with them gone, compose can always create a project's network.
  docker network prune -f >/dev/null || true
  exit 0
fi

# nohup + setsid: dockerd must outlive this script and the CI step that started it.
# From /, so a deleted checkout is never the daemon's working directory.
(cd / && exec setsid nohup dockerd >/tmp/dockerd.log 2>&1 </dev/null) &

for _ in $(seq 1 60); do
  if [ -S /var/run/docker.sock ] && docker info >/dev/null 2>&1; then
    echo "dockerd is up"
    exit 0
  fi
  sleep 1
done
echo "dockerd did not answer on /var/run/docker.sock within 60 s; last log lines:" >&2
tail -n 30 /tmp/dockerd.log >&2 || true
exit 1

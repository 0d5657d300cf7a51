#!/usr/bin/env bash
# Issue 6's benchmark: wrk against GET /api/v1/stats and GET /api/v1/health of a real Manager (own JVM,
# embedded store, the Dockerfile's JVM flags) with two hosts' agents connected over mutual TLS, and the
# Manager's RSS holding 10,000 deployment and container records. Needs wrk (apt-get install -y wrk).
# Usage: bench/manager.sh [SECONDS per wrk run, default 10] [wrk CONNECTIONS, default 8]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk" >&2; exit 1; }
. bench/jar.sh
java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$BENCH_JAR" \
  dev.hostdeploy.bench.manager.ManagerBench "${1:-10}" "${2:-8}"

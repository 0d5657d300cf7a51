#!/usr/bin/env bash
# Issue 10 item 4's measure: a real Manager (own JVM, embedded store, the Dockerfile's JVM flags) over its
# REST API. Prints embedded write throughput (acknowledged user creations per second, 8 clients) with the
# old commit policy (H2's background commit, the "before") and the current one (each write committed
# before the reply), then a kill -9 loop at random moments during N acknowledged writes (user creations
# and token revocations) with how many were lost after the restart (target 0), for both policies.
# Usage: [N=2000] [WRITES=2000] bench/store-durability.sh     (N=10000 for the issue's figure)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/jar.sh
java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$BENCH_JAR" \
  dev.hostdeploy.bench.reliability.StoreDurabilityBench "${N:-2000}" "${WRITES:-2000}"

#!/usr/bin/env bash
# Issue 10's anonymous-flood measure: anonymous POSTs (1 in 4 with a wrong token) against a real Manager
# (own JVM, embedded store, the Dockerfile's JVM flags) on loopback for DURATION seconds, then requests/s,
# the data directory's growth, the audit entries the refusals left and whether every authenticated route
# still answers, beside the targets. Uses wrk when installed (apt-get install -y wrk), else a Java loop.
# Usage: [DURATION=60] [CONNECTIONS=16] bench/anon-flood.sh      (DURATION=300 for the issue's 5 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/jar.sh
DURATION="${DURATION:-60}" CONNECTIONS="${CONNECTIONS:-16}" \
  java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$BENCH_JAR" dev.hostdeploy.bench.reliability.AnonFloodBench

#!/usr/bin/env bash
# Issue 10 item 1's benchmark: 10,000 connections that never finish TLS (1% trickling a ClientHello byte
# by byte) held against the real Worker jar with the unit's flags (-Xmx64m), from 100 loopback addresses,
# while a trusted Manager connects and pings; then while the flood reopens what the agent closes.
# Prints the Manager's connect times and the agent's RSS beside the targets. Loopback only, about a minute.
# Args: [TOTAL=10000] [CHURN_SECONDS=10]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/jar.sh
# One descriptor per held connection, plus the JVM's own.
ulimit -n "$(( $(ulimit -Hn) < 20000 ? $(ulimit -Hn) : 20000 ))"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
timeout 300 java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$BENCH_JAR" \
  dev.hostdeploy.bench.reliability.IdleFlood "$work" "${1:-10000}" "${2:-10}"

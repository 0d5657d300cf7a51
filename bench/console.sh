#!/usr/bin/env bash
# Issue 13's measurements: the console's first page load (bytes, requests) and time to interactive in
# headless Chromium on loopback, and the stats page with 7 days of 60 s samples for 5 hosts (bytes sent,
# render time). Needs the Debian chromium and chromium-driver packages.
# Usage: bench/console.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v chromium >/dev/null || { echo "chromium is not installed: apt-get install -y chromium chromium-driver" >&2; exit 1; }
. bench/jar.sh
java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$BENCH_JAR" dev.hostdeploy.bench.console.ConsoleBench

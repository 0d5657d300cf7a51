#!/usr/bin/env bash
# The embedded store's unique-index layout, before (mongo-java-server's plain H2 backend, whose index keys
# compare by Java-serializing both) and after (IndexedH2Backend), side by side: N record upserts in bulk
# writes of 500 as Records.syncAll does, the same upserts again, N lookups by _id, each side in its own
# JVM with the Manager Dockerfile's flags; then the one-time rebuild of the "before" file's index maps.
# Usage: [N=10000] [RUNS=3] bench/store.sh     (the median of RUNS runs a side is printed)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/jar.sh
exec java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$BENCH_JAR" dev.hostdeploy.bench.store.StoreIndexBench "${N:-10000}" "${RUNS:-3}"

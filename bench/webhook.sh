#!/usr/bin/env bash
# Benchmark of issue 11 (deployments through the Manager): signed webhook -> compose up started and -> new
# content served, beside the same by hand (git fetch + checkout + compose up); one poll cycle over 500
# deployments on 5 simulated hosts with nothing changed. Needs root, a running dockerd, git and docker
# compose. Usage: bench/webhook.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/jar.sh
exec java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$BENCH_JAR" dev.hostdeploy.bench.deployments.WebhookBench "$@"

#!/usr/bin/env bash
# Benchmark of the Worker's Docker auto-deploy (issue 4): deploy.sync over the real protocol (first deploy,
# redeploy on change, unchanged) beside the same done by hand, and repo.head for 100 repositories.
# Needs root, a running dockerd (.ci/setup-docker.sh), git and docker-compose. Usage: bench/deploy.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/jar.sh
exec java -cp "$BENCH_JAR" dev.hostdeploy.bench.deploy.DeployBench "$@"

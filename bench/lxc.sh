#!/usr/bin/env bash
# LXC benchmark (issue 5): lxc.create with start, snapshot and backup through the Worker, each beside
# lxc launch / lxc snapshot / lxc export of the same image. Needs LXD set up (.ci/setup-lxd.sh).
# Usage: bench/lxc.sh [IMAGE_ALIAS [RUNS]]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/jar.sh
exec java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$BENCH_JAR" dev.hostdeploy.bench.lxc.LxcBench "$@"

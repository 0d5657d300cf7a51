#!/usr/bin/env bash
# LXC benchmark (issue 5): lxc.create with start, snapshot and backup through the Worker, each beside
# lxc launch / lxc snapshot / lxc export of the same image. Needs LXD set up (.ci/setup-lxd.sh).
# Usage: bench/lxc.sh [IMAGE_ALIAS [RUNS]]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${HD_BENCH_BUILD:-/tmp/hd-bench-lxc}
mvn -B -q -ntp -DskipTests -Dhd.buildDir="$BUILD" -pl bench -am install >/dev/null
cp_file="$BUILD/lxc-bench.classpath"
mvn -B -q -ntp -Dhd.buildDir="$BUILD" -pl bench \
  org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath -Dmdep.outputFile="$cp_file" >/dev/null
exec java -cp "$BUILD/classes:$(cat "$cp_file")" dev.hostdeploy.bench.lxc.LxcBench "$@"

#!/usr/bin/env bash
# Sourced by the bench scripts: builds bench/target/hostdeploy-bench.jar (every module, shaded) when it
# is missing or older than any source file, and sets BENCH_JAR.
BENCH_JAR=bench/target/hostdeploy-bench.jar
if [ ! -f "$BENCH_JAR" ] || [ -n "$(find protocol guardian worker manager bench -path '*/src/main/*' -newer "$BENCH_JAR" -print -quit)" ]; then
  mvn -B -q -ntp package -DskipTests >&2
fi
export BENCH_JAR

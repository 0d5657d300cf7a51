#!/usr/bin/env bash
# Members' containers benchmark (issue 12), the Manager with a real Worker (LXD) and Guardian (nft in a
# network namespace of its own): request -> first SSH login beside the same steps by hand (lxc launch,
# sshd and key, proxy device, nft add element), and 20 busybox containers requested at once by 10 members
# (all placed, no port twice, wall time). Needs root, LXD with the images hd-debian (OpenSSH) and
# hd-busybox (.ci/setup-lxd.sh), nft and ssh. Usage: bench/containers.sh [SSH_IMAGE [RUNS [all|login|burst]]]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/jar.sh
exec java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$BENCH_JAR" dev.hostdeploy.bench.containers.ContainersBench "$@"

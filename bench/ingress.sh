#!/usr/bin/env bash
# Ingress benchmark (issue 15), against real Caddy processes on loopback (Debian's caddy package), each
# with its own admin port and data directory (nothing of the system's Caddy service is touched), and a
# real Guardian whose nft runs in a private network namespace:
#  - route added -> first HTTPS answer (tls internal: the certificate is issued on the way) through the
#    Guardian's ingress.set, beside a hand-made Caddyfile site added with `caddy reload` (ROUNDS each);
#  - ROUTES routes set one by one through the Guardian, then applied in one load after a Caddy restart
#    (the Guardian's drift repair), with the time and Caddy's RSS;
#  - proxy overhead per request: wrk against the upstream directly and through Caddy (a tls off route).
# Prints one report. ROUNDS (default 5), ROUTES (default 500).
set -euo pipefail
cd "$(dirname "$0")/.."
NS="hdbench-i$$"
cleanup() { ip netns del "$NS" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$NS"; ip netns exec "$NS" ip link set lo up
command -v caddy >/dev/null || { echo "caddy is not installed (apt-get install caddy)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
. bench/jar.sh
java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$BENCH_JAR" dev.hostdeploy.bench.ingress.IngressBench \
  "$NS" "${ROUNDS:-5}" "${ROUTES:-500}"

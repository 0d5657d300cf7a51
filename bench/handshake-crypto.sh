#!/usr/bin/env bash
# The handshake's crypto under the Manager's JVM flags (C1 only, serial GC): ECDSA P-256 sign and verify and
# X25519 key generation and agreement, each by the JDK (SunEC), by BouncyCastle, and as routed by the programs'
# providers (EcdsaProvider, X25519Provider: what a handshake gets). One fresh JVM per operation and
# implementation; the JVM's CPU time per operation (its compiler threads included), cold = over the first
# 50 operations after start, warm = over 3 s after 4 s of warm-up (CPU s, not elapsed).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/jar.sh
flags=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx128m)
printf '%-8s %-24s %-24s %-24s\n' "" "JDK cold / warm (ms)" "BC cold / warm (ms)" "routed cold / warm (ms)"
for op in sign verify keygen agree; do
  row=()
  for impl in jdk bc routed; do
    read -r _ _ cold warm _ < <(java "${flags[@]}" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$BENCH_JAR" \
      dev.hostdeploy.bench.crypto.HandshakeCryptoBench "$op" "$impl")
    row+=("$cold / $warm")
  done
  printf '%-8s %-24s %-24s %-24s\n' "$op" "${row[0]}" "${row[1]}" "${row[2]}"
done

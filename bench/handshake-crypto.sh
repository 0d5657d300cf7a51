#!/usr/bin/env bash
# The handshake's crypto under the Manager's JVM flags (C1 only, serial GC): ECDSA P-256 sign and verify, X25519
# key generation and agreement, "all" (the four: one side of a handshake) and a whole handshake, each by the JDK
# (SunEC), by BouncyCastle, as routed before X25519Provider (the JDK signing and doing X25519, BouncyCastle
# verifying) and as routed now by the programs' providers (EcdsaProvider, X25519Provider: what a handshake gets).
# One fresh JVM per operation and implementation. Figures are the JVM's CPU time per operation in ms, its
# compiler threads included: cold = over the first 50 operations after start, warm = over 3 s after 4 s of warm-up.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/jar.sh
flags=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx128m)
printf '%-9s %-16s %-16s %-16s %-16s\n' "cold/warm" "JDK" "BouncyCastle" "routed before" "routed now"
for op in sign verify keygen agree all; do
  row=()
  for impl in jdk bc before routed; do
    read -r _ _ cold warm _ < <(java "${flags[@]}" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$BENCH_JAR" \
      dev.hostdeploy.bench.crypto.HandshakeCryptoBench "$op" "$impl")
    row+=("$cold / $warm")
  done
  printf '%-9s %-16s %-16s %-16s %-16s\n' "$op" "${row[@]}"
done
# A whole mutual TLS 1.3 handshake, both sides in one JVM (two in-memory SSLEngines, P-256 identities, no
# resumption): the JDK's crypto alone (-Dhostdeploy.tls.crypto=jdk) against the providers.
row=()
for impl in jdk routed; do
  read -r _ _ cold warm _ < <(java "${flags[@]}" -cp "$BENCH_JAR" dev.hostdeploy.bench.crypto.HandshakeCryptoBench handshake "$impl")
  row+=("$cold / $warm")
done
printf '%-9s %-16s %-16s %-16s %-16s\n' "handshake" "${row[0]}" "-" "-" "${row[1]}"

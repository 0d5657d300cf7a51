#!/usr/bin/env bash
# Guardian benchmark: opens N = 10, 100, 1,000, 10,000 ports through a real Guardian whose nft runs in a
# private network namespace (one by one, and as one firewall.apply) and measures `ufw allow PORT/tcp`
# one by one on an enabled ufw in another private namespace, with /etc/ufw, /etc/default/ufw and
# /lib/ufw replaced by private copies (unshare -m), so the host's firewall and ufw config are untouched.
# ufw is measured on a bounded N (UFW_N, default 100): it grows slower as rules pile up, so the
# per-rule figure is a conservative (favourable to ufw) baseline. ONE_BY_ONE_MAX bounds how many ports
# are opened one by one per N (default all 10,000; that step alone takes minutes). Prints one table.
set -euo pipefail
cd "$(dirname "$0")/.."
UFW_N=${UFW_N:-100}
SIZES=${SIZES:-"10 100 1000 10000"}
NS_G="hdbench-g$$"
NS_U="hdbench-u$$"
cleanup() { ip netns del "$NS_G" 2>/dev/null || true; ip netns del "$NS_U" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$NS_G"; ip netns exec "$NS_G" ip link set lo up
ip netns add "$NS_U"; ip netns exec "$NS_U" ip link set lo up

ufw_per_rule=0.23
if command -v ufw >/dev/null; then
  ufw_per_rule=$(ip netns exec "$NS_U" unshare -m --propagation private bash -s "$UFW_N" <<'UFW'
set -euo pipefail
n=$1
priv=$(mktemp -d)
for d in /etc/ufw /lib/ufw; do
  mkdir -p "$priv$d"; cp -a "$d/." "$priv$d/" 2>/dev/null || true; mount --bind "$priv$d" "$d"
done
cp /etc/default/ufw "$priv/default-ufw"
: > "$priv/empty-sysctl"
# never let ufw write kernel sysctls, even namespaced ones
sed -i "s|^IPT_SYSCTL=.*|IPT_SYSCTL=$priv/empty-sysctl|" "$priv/default-ufw"
mount --bind "$priv/default-ufw" /etc/default/ufw
ufw --force reset >/dev/null 2>&1 || true
ufw --force enable >/dev/null
start=$(date +%s.%N)
for i in $(seq 1 "$n"); do ufw allow "$((20000 + 2 * i))/tcp" >/dev/null; done
end=$(date +%s.%N)
echo "$start $end $n" | awk '{ printf "%.4f", ($2 - $1) / $3 }'
UFW
)
else
  echo "ufw not installed: using the issue's measured 0.23 s per rule" >&2
fi

. bench/jar.sh
# shellcheck disable=SC2086
java -DoneByOneMax="${ONE_BY_ONE_MAX:-10000}" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$BENCH_JAR" dev.hostdeploy.bench.guardian.GuardianBench \
  "$NS_G" "$ufw_per_rule" "$UFW_N" $SIZES

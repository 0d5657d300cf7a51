#!/usr/bin/env bash
# Issue 2's benchmark: protocol ping vs raw TCP echo vs JDK TLS 1.3 echo vs OpenSSH exec (ControlMaster), calls/s with 64 in
# flight, and the RSS of an idle agent started with -Xmx64m. Needs openssh-server (apt-get install -y openssh-server).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/jar.sh
work=$(mktemp -d)
trap 'kill $(cat "$work/sshd.pid" 2>/dev/null) 2>/dev/null || true; [ -n "${agent_pid:-}" ] && kill "$agent_pid" 2>/dev/null; rm -rf "$work"' EXIT

# A throwaway sshd on loopback with its own host key and one authorized key: the way Coolify, Kamal and
# Dokku drive a host, at its fastest (a persistent ControlMaster connection).
ssh-keygen -q -t ed25519 -N '' -f "$work/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$work/client_key"
mkdir -p /run/sshd
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $port
HostKey $work/host_key
PidFile $work/sshd.pid
AuthorizedKeysFile $work/client_key.pub
PermitRootLogin prohibit-password
PasswordAuthentication no
UsePAM no
StrictModes no
CONF
/usr/sbin/sshd -f "$work/sshd_config"
sleep 0.5

java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$BENCH_JAR" \
  dev.hostdeploy.bench.protocol.ProtocolBench "$port" "$work/client_key"

# Idle agent memory: the real Worker jar, -Xmx64m, with a Manager connected, after it settles.
java -Xmx64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k -XX:ReservedCodeCacheSize=32m \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$BENCH_JAR" \
  dev.hostdeploy.bench.protocol.IdleAgentRss "$work"

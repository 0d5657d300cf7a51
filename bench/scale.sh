#!/usr/bin/env bash
# Issue 16's benchmark: one real Manager (own JVM, embedded store, the Dockerfile's JVM flags with
# -Xmx256m) against simulated hosts (bench/agent-farm.py: N Workers + N Guardians in one Python process,
# real mutual TLS 1.3 on loopback). Per host count: time to connect all, idle RSS, threads and CPU,
# cold and cached GET /stats, and the time until all agents are back after kill -9 of the Manager.
# Needs apt packages python3-websockets and python3-cryptography.
# Usage: bench/scale.sh [HOSTS, default "10,100,500"; e.g. "10,100,500,1000"]
# HEAP=-Xmx256m (default, as the issue measures) or HEAP=dockerfile to keep the Dockerfile's own -Xmx;
# The Dockerfile's class-data sharing archive is made first, by its own RUN line (CDS=0: none);
# MANAGER_JAVA_OPTS="..." to try other JVM flags; PROFILE=DIR records the Manager with JDK Flight Recorder
# and leaves DIR/cold-stats-N.jfr (the five cold /stats rounds), DIR/threads-N.txt and DIR/histogram-N.txt
# (the threads and the heap when idle) and DIR/reconnect-N.jfr (the restart until all are back), for `jfr print --events jdk.ExecutionSample` or JDK Mission Control.
# FARM_ARGS=--without-summary makes the simulated agents older ones, which serve neither host.summary nor
# firewall.summary, so the Manager asks each host's five queries one by one (the round before those commands).
# (1,000 hosts is left out of the default run only for time: it takes about two minutes more.)
set -euo pipefail
cd "$(dirname "$0")/.."
HOSTS_LIST="${1:-10,100,500}"
PY=/usr/bin/python3
$PY -c 'import websockets, cryptography' 2>/dev/null \
  || { echo "needs: apt-get install -y python3-websockets python3-cryptography" >&2; exit 1; }
JAR=manager/target/hostdeploy-manager.jar
if [ ! -f "$JAR" ] || [ -n "$(find protocol schema manager -path '*/src/main/*' -newer "$JAR" -print -quit)" ]; then
  mvn -B -q -ntp -o -pl manager -am package -DskipTests >&2
fi
# The Dockerfile's flags, heap set to 256 MB as the issue measures unless HEAP=dockerfile.
HEAP="${HEAP:--Xmx256m}"
JAVA_OPTS="$(sed -n 's/.*JAVA_OPTS="\([^"]*\)".*/\1/p' manager/Dockerfile)"
[ "$HEAP" != dockerfile ] && JAVA_OPTS="$(sed "s/-Xmx[0-9]*[mMgG]/$HEAP/" <<<"$JAVA_OPTS")"
# MANAGER_JAVA_OPTS replaces them all, to compare other flags against the Dockerfile's.
JAVA_OPTS="${MANAGER_JAVA_OPTS:-$JAVA_OPTS}"
# 1,000 hosts hold 2,000 sockets in each process: raise the soft limit as far as allowed.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# Lower case only: the store's driver lower-cases the path of its unix socket (a data dir with capitals fails).
WORK="/tmp/hostdeploy-scale.$$.$(date +%s)"; mkdir -m 700 "$WORK"
MANAGER_PID= FARM_PID=
cleanup() {
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    # `|| true`: with pipefail and -e, a grep that finds nothing would end the trap before the kills below.
    grep -hE ' (WARN|ERROR) |Exception|Error' "$WORK"/n*/manager.log 2>/dev/null | head -n 20 >&2 || true
    echo "logs kept in $WORK" >&2
  fi
  [ -n "$MANAGER_PID" ] && kill -9 "$MANAGER_PID" 2>/dev/null || true
  [ -n "$FARM_PID" ] && kill "$FARM_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  [ "$rc" -eq 0 ] && rm -rf "$WORK"
}
trap cleanup EXIT
# The image's class-data sharing archive, made as its RUN line makes it (CDS=0 to run without one).
if [ "${CDS:-1}" = 0 ]; then
  JAVA_OPTS="$(sed 's/ *-XX:SharedArchiveFile=[^ ]*//' <<<"$JAVA_OPTS")"
elif [[ "$JAVA_OPTS" == *-XX:SharedArchiveFile=/opt/hostdeploy/manager.jsa* ]]; then
  manager/cds-archive.sh "$JAR" "$WORK/manager.jsa" >"$WORK/cds-training.log" 2>&1
  JAVA_OPTS="${JAVA_OPTS//\/opt\/hostdeploy\/manager.jsa/$WORK/manager.jsa}"
fi
java -jar "$JAR" init --dir "$WORK/id" >/dev/null 2>&1 || true
MFP="$(java -jar "$JAR" fingerprint --dir "$WORK/id" 2>/dev/null | grep -o 'sha256:[0-9a-f]*' | head -1)"
echo "JAVA_OPTS: $JAVA_OPTS" >&2

results=()
read -ra FARM_EXTRA <<<"${FARM_ARGS:-}"
for N in ${HOSTS_LIST//,/ }; do
  D="$WORK/n$N"; mkdir -p "$D"
  # A base port whose 2N ports are all free (another run on the machine may hold some), and a free port
  # for the API just below them, all below the kernel's ephemeral range so no outgoing connection on the
  # machine (the Manager's own to its agents) takes one before it is bound.
  read -r BASE PORT < <($PY -c 'import random,socket,sys
n=2*int(sys.argv[1])+1
try: lo=int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except Exception: lo=32768
for _ in range(50):
    b=random.randrange(10000,max(10001,lo-n)); ok=True
    for p in range(b,b+n):
        s=socket.socket()
        try: s.bind(("127.0.0.1",p))
        except OSError: ok=False; break
        finally: s.close()
    if ok: print(b+1, b); break' "$N")
  start_manager() {
    local jfr=()
    # The first start is recorded around its cold rounds only (jcmd below); a restart from its start.
    [ -n "${PROFILE:-}" ] && [ "${1:-}" = restart ] && jfr=(-XX:StartFlightRecording=name=bench,settings=profile)
    HOSTDEPLOY_LISTEN=127.0.0.1:$PORT HOSTDEPLOY_DIR="$WORK/id" HOSTDEPLOY_DATA_DIR="$D/data" MALLOC_ARENA_MAX=2 \
      java $JAVA_OPTS "${jfr[@]}" -jar "$JAR" serve >>"$D/manager.log" 2>&1 &
    MANAGER_PID=$!
  }
  $PY bench/agent-farm.py --hosts "$N" --base-port "$BASE" --manager-fp "$MFP" --manager-cert "$WORK/id/cert.pem" \
    --certs "$WORK/farm-certs" --hosts-out "$D/hosts.json" --stats-out "$D/farm.json" "${FARM_EXTRA[@]}" >"$D/farm.log" 2>&1 &
  FARM_PID=$!
  start_manager
  $PY - "$N" "$PORT" "$MANAGER_PID" "$D" "$FARM_PID" <<'PYEOF' > "$D/result.json"
import json, os, statistics, sys, time, urllib.request
n, port, pid, d, farm = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
api = f"http://127.0.0.1:{port}/api/v1"
def until(cond, timeout, step=0.02):
    end = time.time() + timeout
    while time.time() < end:
        try:
            v = cond()
            if v:
                return v
        except Exception:
            pass
        time.sleep(step)
    return None
def get(path, token=None, timeout=30, fresh=False):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if fresh:
        headers["Cache-Control"] = "no-cache"
    req = urllib.request.Request(api + path, headers=headers)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())
def health():
    return get("/health")["agents"]
def proc(pid):
    st = {l.split(":")[0]: l.split(":")[1].strip() for l in open(f"/proc/{pid}/status")}
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(st["VmRSS"].split()[0]) / 1024, int(st["Threads"]), (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
out = {"hosts": n}
until(lambda: os.path.exists(f"{d}/hosts.json"), 300, 0.2)
assert until(health, 60), "manager did not start"
token = open(f"{d}/data/admin-token").read().strip()
hosts = json.load(open(f"{d}/hosts.json"))
t0 = time.time()
for h in hosts:
    req = urllib.request.Request(api + "/hosts", data=json.dumps(h).encode(), method="POST",
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=30).read()
out["register_s"] = round(time.time() - t0, 2)
ok = until(lambda: health()["connected"] == 2 * n, 120, 0.05)
out["connect_all_s"] = round(time.time() - t0, 2) if ok else None
out["connected"] = health()["connected"]
# Cold /stats: the first gathering of this Manager (the caller waits for it).
t = time.time(); s = get("/stats", token, 60); out["first_stats_ms"] = round((time.time() - t) * 1000)
out["stats_errors"] = sum(len(h["errors"]) for h in s["hosts"])
# Further cold rounds: a request with Cache-Control: no-cache waits for a round made after it asked; its
# time is the round's (checked by a newer generatedAt). One request per round, so the bench's own polling
# (parsing the whole report) does not take CPU from the Manager and the agents while a round runs.
if os.environ.get("PROFILE"):
    import subprocess
    subprocess.run(["jcmd", str(pid), "JFR.start", "name=bench", "settings=profile"], capture_output=True, timeout=60)
colds, cpus, farm_cpus, stale_rounds = [], [], [], 0
for i in range(5):
    time.sleep(2.2)
    before = s["generatedAt"]; c0 = proc(pid)[2]; f0 = proc(farm)[2]; t = time.time(); s = get("/stats", token, 60, fresh=True)
    colds.append((time.time() - t) * 1000); cpus.append((proc(pid)[2] - c0) * 1000); farm_cpus.append((proc(farm)[2] - f0) * 1000)
    # The same figures again: the round outlasted the request's wait and the last figures were served.
    stale_rounds += s["generatedAt"] == before
out["cold_stats_median_ms"] = round(statistics.median(colds))
out["cold_rounds_past_wait"] = stale_rounds
# The Manager's own CPU time per cold round (user + system): less sensitive to a busy machine than the wall time.
out["cold_stats_cpu_ms"] = round(statistics.median(cpus))
out["cold_stats_farm_cpu_ms"] = round(statistics.median(farm_cpus))
if os.environ.get("PROFILE"):
    import subprocess
    subprocess.run(["jcmd", str(pid), "JFR.dump", "name=bench", f"filename={os.environ['PROFILE']}/cold-stats-{n}.jfr"],
                   capture_output=True, timeout=120)
    # Stopped, so the idle figures below are not the recorder's.
    subprocess.run(["jcmd", str(pid), "JFR.stop", "name=bench"], capture_output=True, timeout=60)
cached = []
for i in range(20):
    t = time.time(); get("/stats", token); cached.append((time.time() - t) * 1000)
out["cached_stats_median_ms"] = round(statistics.median(cached), 1)
time.sleep(15)  # idle: pings and nothing else
def per_thread(pid):
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            name = open(f"/proc/{pid}/task/{tid}/comm").read().strip()
            f = open(f"/proc/{pid}/task/{tid}/stat").read().rsplit(")", 1)[1].split()
            out[tid] = (name, int(f[11]) + int(f[12]))
        except OSError:
            pass
    return out
threads0 = per_thread(pid)
# 60 s: whole periods of everything the Manager does when idle (a heartbeat round every 15 s, a
# stats-history sampling every minute), so the figure does not depend on where the window falls.
rss, threads, cpu0 = proc(pid); t = time.time(); time.sleep(60); rss, threads, cpu1 = proc(pid)
if os.environ.get("PROFILE"):
    # Which threads the idle CPU went to (names as the kernel keeps them, 15 characters at most).
    threads1, by_name = per_thread(pid), {}
    for tid, (name, ticks) in threads1.items():
        by_name[name] = by_name.get(name, 0) + ticks - threads0.get(tid, (name, 0))[1]
    with open(f"{os.environ['PROFILE']}/idle-cpu-{n}.txt", "w") as h:
        for name, ticks in sorted(by_name.items(), key=lambda x: -x[1]):
            if ticks:
                h.write(f"{ticks / os.sysconf('SC_CLK_TCK'):7.2f} s  {name}\n")
out["idle_rss_mb"] = round(rss); out["threads"] = threads
out["idle_cpu_pct"] = round(100 * (cpu1 - cpu0) / (time.time() - t), 2)
# Live heap: what a full GC leaves (the serial collector's old + young generation in use).
import re, subprocess
subprocess.run(["jcmd", str(pid), "GC.run"], capture_output=True, timeout=60)
info = subprocess.run(["jcmd", str(pid), "GC.heap_info"], capture_output=True, text=True, timeout=60).stdout
if os.environ.get("PROFILE"):
    with open(f"{os.environ['PROFILE']}/threads-{n}.txt", "w") as h:
        h.write(subprocess.run(["jcmd", str(pid), "Thread.print"], capture_output=True, text=True, timeout=120).stdout)
    with open(f"{os.environ['PROFILE']}/histogram-{n}.txt", "w") as h:
        h.write(subprocess.run(["jcmd", str(pid), "GC.class_histogram"], capture_output=True, text=True, timeout=120).stdout)
used = [int(k) for k in re.findall(r"used (\d+)K", info)[:2]]  # def new generation, tenured generation
out["live_heap_mb"] = round(sum(used) / 1024, 1) if used else None
json.dump(out, sys.stdout)
PYEOF
  # kill -9 and restart: time until the API answers and until every agent is back.
  kill -9 "$MANAGER_PID"; wait "$MANAGER_PID" 2>/dev/null || true
  T0=$(date +%s.%N); start_manager restart
  $PY - "$N" "$PORT" "$T0" "$MANAGER_PID" "$FARM_PID" <<'PYEOF' > "$D/restart.json"
import json, os, sys, time, urllib.request
n, port, t0, pid, farm = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
api_at = None
def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
# Where the time goes: the Manager's CPU when its API first answers, the simulated agents' CPU over the
# whole reconnect, and the agents connected at each whole second (to tell pacing from a busy machine).
farm0, cpu_at_api, timeline = cpu(farm), None, []
while time.time() - t0 < 120:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=5) as r:
            a = json.loads(r.read())["agents"]
        if api_at is None:
            api_at, cpu_at_api = (time.time() - t0, a["connected"]), cpu(pid)
        while len(timeline) <= int(time.time() - t0):
            timeline.append(a["connected"])
        if a["connected"] == 2 * n:
            break
    except Exception:
        pass
    time.sleep(0.05)
if os.environ.get("PROFILE"):
    import subprocess
    subprocess.run(["jcmd", str(pid), "JFR.dump", "name=bench", f"filename={os.environ['PROFILE']}/reconnect-{n}.jfr"],
                   capture_output=True, timeout=120)
json.dump({"api_answers_s": round(api_at[0], 2) if api_at else None, "connected_when_api_answered": api_at[1] if api_at else None,
           "reconnect_all_s": round(time.time() - t0, 2) if a["connected"] == 2 * n else None,
           "reconnect_cpu_s": round(cpu(pid), 1), "reconnect_cpu_at_api_s": round(cpu_at_api, 1) if cpu_at_api else None,
           "reconnect_farm_cpu_s": round(cpu(farm) - farm0, 1), "reconnect_timeline": timeline}, sys.stdout)
PYEOF
  kill -9 "$MANAGER_PID"; wait "$MANAGER_PID" 2>/dev/null || true; MANAGER_PID=
  kill "$FARM_PID"; wait "$FARM_PID" 2>/dev/null || true; FARM_PID=
  WARNS=$(grep -cE ' (WARN|ERROR) ' "$D/manager.log" || true)
  $PY -c 'import json,sys; a=json.load(open(sys.argv[1])); a.update(json.load(open(sys.argv[2]))); a["warn_error_lines"]=int(sys.argv[3]); print(json.dumps(a))' \
    "$D/result.json" "$D/restart.json" "$WARNS" > "$D/all.json"
  results+=("$D/all.json")
  echo "hosts=$N: $(cat "$D/all.json")" >&2
  # head closes the pipe early: grep's SIGPIPE must not end the run (pipefail) before the table.
  if [ "$WARNS" -gt 0 ]; then grep -E ' (WARN|ERROR) ' "$D/manager.log" | head -5 >&2 || true; fi
done

$PY - "${results[@]}" <<'PYEOF'
import json, sys
rows = [json.load(open(p)) for p in sys.argv[1:]]
baseline = {10: ("129 MB", "95", "1.4%", "17 ms", "1.3 s"), 100: ("216 MB", "635", "8.9%", "76 ms", "2.5 s"),
            250: ("339 MB", "1,535", "20%", "262 ms", "4.6 s"), 500: ("532 MB", "3,035", "47%", "456 ms", "7.3 s")}
print("| hosts | connected | connect all | idle RSS | live heap | threads | idle CPU | first /stats | cold /stats (median; Manager CPU; simulated agents' CPU) | cached /stats | API up after kill -9 | all reconnected (Manager CPU since start) | WARN/ERROR |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['hosts']} | {r['connected']}/{2*r['hosts']} | {r['connect_all_s']} s | {r['idle_rss_mb']} MB | {r['live_heap_mb']} MB | {r['threads']} | "
          f"{r['idle_cpu_pct']}% | {r['first_stats_ms']} ms | {r['cold_stats_median_ms']} ms ({r['cold_stats_cpu_ms']} ms CPU; agents {r['cold_stats_farm_cpu_ms']} ms{'; ' + str(r['cold_rounds_past_wait']) + ' of 5 past the wait' if r['cold_rounds_past_wait'] else ''}) | {r['cached_stats_median_ms']} ms | "
          f"{r['api_answers_s']} s ({r['connected_when_api_answered']} connected) | {r['reconnect_all_s']} s ({r['reconnect_cpu_s']} s CPU) | {r['warn_error_lines']} |")
print()
print("Targets at 1,000 hosts: all connected, idle RSS <= 512 MB, threads <= 200, idle CPU <= 5%, cold /stats median <= 1 s,")
print("all reconnected <= 15 s after kill -9, no WARN/ERROR.")
print("Baseline (issue 16, before): | hosts | idle RSS | threads | idle CPU | cold /stats | reconnected |")
for h, b in baseline.items():
    print(f"  | {h} | " + " | ".join(b) + " |")
PYEOF

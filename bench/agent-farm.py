#!/usr/bin/python3
"""Simulated hostdeploy agent farm: N hosts = N Workers + N Guardians, each a WebSocket server over
TLS 1.3 on its own loopback port with its own self-signed EC P-256 key, trusting only the Manager's key
(pinned by SPKI fingerprint), one Manager connection at a time (4409 for a second one), answering
info/ping and the stats commands with reply shapes taken from the real agents' handlers.

Copied from ../shared/tools/agent-farm.py for bench/scale.sh, with replies that bind to the schema
records the Manager now reads (dev.hostdeploy.schema.*): owners are `kind/name` strings."""
import argparse, asyncio, datetime, hashlib, json, os, random, signal, ssl, sys, time
import websockets
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

PATH = "/hostdeploy/v1"
VERSION = "0.1.0-SNAPSHOT"
WORKER_COMMANDS = sorted("""deploy.list deploy.logs deploy.remove deploy.rollback deploy.start deploy.status deploy.stop
deploy.sync host.stats host.summary info lxc.backup.create lxc.backup.delete lxc.backup.list lxc.backup.restore lxc.create lxc.delete
lxc.get lxc.keys.set lxc.limits.set lxc.list lxc.restart lxc.snapshot.create lxc.snapshot.delete lxc.snapshot.list
lxc.snapshot.restore lxc.snapshot.schedule lxc.ssh.expose lxc.ssh.unexpose lxc.start lxc.stop ping repo.head""".split())
GUARDIAN_COMMANDS = sorted("""firewall.apply firewall.close firewall.list firewall.open firewall.status firewall.summary forward.add
forward.remove info ingress.list ping""".split())


def spki_fp_of_cert(cert):
    der = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()


def make_identity(d, cn):
    """key.pem + cert.pem in d (made once, reused); returns the fingerprint."""
    cert_p, key_p = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    if not os.path.exists(cert_p):
        os.makedirs(d, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        now = datetime.datetime.utcnow()
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
        with open(key_p, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        os.chmod(key_p, 0o600)
        with open(cert_p, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(cert_p, "rb") as f:
        return spki_fp_of_cert(x509.load_pem_x509_certificate(f.read())), cert_p, key_p


# ---------------------------------------------------------------- realistic replies (shapes from the agents)
def worker_data(i, rnd):
    owners = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]
    deployments = []
    for d in range(rnd.randint(3, 8)):
        name = f"app{d}-h{i}"
        status = rnd.choice(["running"] * 6 + ["failed", "stopped"])
        services = []
        for s, svc in enumerate(["web", "db", "worker"][: rnd.randint(1, 3)]):
            services.append({"service": svc, "containerId": "%064x" % rnd.getrandbits(256),
                             "containerName": f"{name}-{svc}-1", "state": "running" if status == "running" else "exited",
                             **({"health": "healthy"} if svc == "web" else {}),
                             "startedAt": "2025-11-%02dT10:%02d:00.123456789Z" % (rnd.randint(1, 28), rnd.randint(0, 59)),
                             **({"exitCode": 1} if status == "failed" else {}),
                             "ports": ([{"hostIp": "0.0.0.0", "hostPort": 8000 + d, "containerPort": 80, "protocol": "tcp"}]
                                       if svc == "web" else [])})
        dep = {"name": name, "repo": f"https://github.com/club/{name}.git", "ref": "main",
               "commit": "%040x" % rnd.getrandbits(160), "composePath": "compose.yaml", "status": status,
               "updatedAt": "2025-11-20T12:00:00Z", "services": services}
        if status == "failed":
            dep["lastError"] = "service web did not become healthy within 120 s"
        deployments.append(dep)
    containers = []
    for c in range(rnd.randint(2, 6)):
        owner = rnd.choice(owners)
        running = rnd.random() < 0.75
        containers.append({"name": f"{owner}-box{c}", "owner": f"member/{owner}", "image": "debian/12",
                           "status": "Running" if running else "Stopped",
                           "limits": {"cpu": 2, "memory": "2GiB", "disk": "10GiB"},
                           "addresses": [f"10.77.{i % 250}.{10 + c}", f"fd42:77::{c:x}"] if running else [],
                           "ssh": "running", "sshExposed": f"0.0.0.0:{22000 + c}",
                           "snapshots": {"schedule": "@daily", "expiry": "7d"},
                           "createdAt": "2025-10-01T09:00:00Z"})
    running = sum(len(d["services"]) for d in deployments if d["status"] == "running")
    total = sum(len(d["services"]) for d in deployments)
    stats = {"load1": 0.42, "load5": 0.37, "load15": 0.30, "cpus": 8, "memoryTotalBytes": 33554432000,
             "memoryAvailableBytes": 21474836480, "diskPath": "/var/lib/hostdeploy/deploy",
             "diskTotalBytes": 512110190592, "diskFreeBytes": 301989888000,
             "containersRunning": running, "containersTotal": total + 1}
    return {"host.stats": stats, "deploy.list": {"deployments": deployments}, "lxc.list": {"containers": containers}}


def guardian_data(i, rnd):
    rules = [{"protocol": "tcp", "port": 22, "owner": "manual/admin", "comment": "ssh"},
             {"protocol": "tcp", "port": 80, "owner": "manual/admin"}, {"protocol": "tcp", "port": 443, "owner": "manual/admin"}]
    for d in range(rnd.randint(2, 6)):
        rules.append({"protocol": "tcp", "port": 8000 + d, "owner": f"deployment/app{d}-h{i}"})
    rules.append({"protocol": "udp", "ports": "60000-60009", "owner": "manual/mosh", "comment": "mosh"})
    rules.append({"protocol": "tcp", "port": 9100, "source": "10.0.0.0/8", "owner": "manual/monitoring"})
    forwards = [{"protocol": "tcp", "hostPort": 22000 + c, "targetAddress": f"10.77.{i % 250}.{10 + c}",
                 "targetPort": 22, "owner": f"container/box{c}"} for c in range(rnd.randint(1, 4))]
    status = {"table": "hostdeploy", "tablePresent": True, "rules": len(rules), "forwards": len(forwards),
              "nftRules": 14, "nftElements": len(rules) + len(forwards) + 1, "inSync": True, "drift": [],
              "protectedTcpPorts": [22], "lastRepair": None}
    # No domains routed: the Manager's reconcile on reconnect lists the routes and finds nothing to change.
    return {"firewall.list": {"rules": rules, "forwards": forwards}, "firewall.status": status,
            "ingress.list": {"routes": []}}


class Agent:
    def __init__(self, kind, index, port, fp, cert, key, manager_fps, stats):
        self.kind, self.index, self.port, self.fp = kind, index, port, fp
        self.manager_fps, self.stats = manager_fps, stats
        self.active = None
        rnd = random.Random(index * 2 + (kind == "guardian"))
        self.data = worker_data(index, rnd) if kind == "worker" else guardian_data(index, rnd)
        self.info = {"kind": kind, "version": VERSION, "hostname": f"host-{index:04d}", "protocolVersion": 1,
                     "fingerprint": fp, "commands": [c for c in (WORKER_COMMANDS if kind == "worker" else GUARDIAN_COMMANDS)
                                  if not (args.without_summary and c.endswith(".summary"))]}
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.maximum_version = ssl.TLSVersion.TLSv1_3
        # As the real agents (protocol Tls.restrict): the Manager's order of TLS 1.3 suites decides.
        ctx.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
        ctx.load_cert_chain(cert, key)
        ctx.verify_mode = ssl.CERT_REQUIRED          # a client certificate is required...
        ctx.load_verify_locations(cafile=args.manager_cert)   # ...the Manager's self-signed one; key pinned below
        self.ssl = ctx

    async def handler(self, ws, path=None):
        der = ws.transport.get_extra_info("ssl_object").getpeercert(binary_form=True)
        fp = spki_fp_of_cert(x509.load_der_x509_certificate(der)) if der else None
        if fp not in self.manager_fps:
            self.stats["refused"] += 1
            await ws.close(1008, "untrusted key")
            return
        if self.active is not None:
            self.stats["slot_taken"] += 1
            await ws.close(4409, "another manager is connected")
            return
        self.active = ws
        self.stats["connected"] += 1
        self.stats["connects"] += 1
        try:
            async for frame in ws:
                if not isinstance(frame, str):
                    await ws.send(json.dumps({"id": None, "command": "error", "data": {
                        "code": "bad_request", "message": "binary frames are not supported", "retryable": False}}))
                    continue
                try:
                    m = json.loads(frame)
                    rid, cmd = m["id"], m["command"]
                except Exception:
                    await ws.send(json.dumps({"id": None, "command": "error", "data": {
                        "code": "bad_request", "message": "unreadable frame", "retryable": False}}))
                    continue
                cnt = self.stats["commands"]
                cnt[cmd] = cnt.get(cmd, 0) + 1
                if cmd == "ping":
                    data = {"time": int(time.time() * 1000)}
                elif cmd == "info":
                    data = self.info
                elif cmd == "firewall.apply":
                    # As the Guardian: the applied state is what firewall.list reports from now on, so the
                    # Manager's reconcile after a reconnect finds nothing to change.
                    want = m.get("data") or {}
                    self.data["firewall.list"] = {"rules": want.get("rules", []), "forwards": want.get("forwards", [])}
                    n_rules, n_forwards = len(want.get("rules", [])), len(want.get("forwards", []))
                    data = {"rules": n_rules, "forwards": n_forwards, "elements": n_rules + n_forwards + 1}
                elif cmd == "host.summary" and self.kind == "worker" and cmd in self.info["commands"]:
                    # As the Worker's HostSummaryCommand: names and states only, no services or addresses.
                    data = {"stats": self.data["host.stats"],
                            "deployments": [{"name": d["name"], "status": d["status"]}
                                            for d in self.data["deploy.list"]["deployments"]],
                            "containers": [{"name": c["name"], "status": c["status"], "owner": c["owner"]}
                                           for c in self.data["lxc.list"]["containers"]],
                            "errors": {}}
                elif cmd == "firewall.summary" and self.kind == "guardian" and cmd in self.info["commands"]:
                    data = {"state": self.data["firewall.list"], "status": self.data["firewall.status"]}
                elif cmd in self.data:
                    data = self.data[cmd]
                else:
                    await ws.send(json.dumps({"id": rid, "command": "error", "data": {
                        "code": "unknown_command", "message": "no command " + str(cmd), "retryable": False}}))
                    continue
                await ws.send(json.dumps({"id": rid, "command": "result", "data": data}))
        except websockets.ConnectionClosed:
            pass
        finally:
            self.active = None
            self.stats["connected"] -= 1
            self.stats["disconnects"] += 1


async def process_request(path, headers):
    if path != PATH:
        return (404, [], b"not found\n")
    return None


async def main():
    mfp = args.manager_fp
    stats = {"connected": 0, "connects": 0, "disconnects": 0, "refused": 0, "slot_taken": 0, "commands": {}}
    hosts, agents = [], []
    for i in range(args.hosts):
        pair = {}
        for j, kind in enumerate(("worker", "guardian")):
            port = args.base_port + 2 * i + j
            fp, cert, key = make_identity(os.path.join(args.certs, f"{kind}-{i:04d}"), f"hostdeploy-{kind}")
            agents.append(Agent(kind, i, port, fp, cert, key, {mfp}, stats))
            pair[kind] = {"address": f"127.0.0.1:{port}", "fingerprint": fp}
        hosts.append({"name": f"host-{i:04d}", **pair})
    servers = []
    for a in agents:
        servers.append(await websockets.serve(a.handler, "127.0.0.1", a.port, ssl=a.ssl, process_request=process_request,
                                              compression=None, max_size=1024 * 1024, ping_interval=20,
                                              ping_timeout=20, close_timeout=5))
    tmp = args.hosts_out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(hosts, f)
    os.rename(tmp, args.hosts_out)
    print(f"farm: {len(agents)} agents listening on {args.base_port}..{args.base_port + len(agents) - 1}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    while not stop.is_set():
        with open(args.stats_out + ".tmp", "w") as f:
            json.dump(stats, f)
        os.rename(args.stats_out + ".tmp", args.stats_out)
        try:
            await asyncio.wait_for(stop.wait(), 1.0)
        except asyncio.TimeoutError:
            pass
    for s in servers:
        s.close()
    print("farm: stopped", json.dumps(stats), flush=True)


p = argparse.ArgumentParser()
p.add_argument("--hosts", type=int, required=True)
p.add_argument("--base-port", type=int, default=20000)
p.add_argument("--manager-fp", required=True)
p.add_argument("--manager-cert", required=True)
p.add_argument("--certs", required=True, help="directory for the agents' generated keys (reused across runs)")
p.add_argument("--hosts-out", required=True)
p.add_argument("--stats-out", required=True)
p.add_argument("--without-summary", action="store_true",
               help="serve neither host.summary nor firewall.summary, as agents older than them: the Manager "
                    "then asks each host's five queries one by one")
args = p.parse_args()
asyncio.run(main())

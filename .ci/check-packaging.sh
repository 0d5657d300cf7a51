#!/usr/bin/env bash
# Packaging checks CI can make without systemd as PID 1 and without a registry: the units verify, the
# host installer's dry run and a real install into a scratch root, and the compose file's config.
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "check-packaging: $*" >&2; exit 1; }

echo "== shellcheck"
shellcheck -S warning hostdeploy .ci/*.sh manager/cds-archive.sh
echo "ok scripts"

echo "== systemd-analyze verify"
for unit in systemd/hostdeploy-*.service; do
  # verify warns (unknown keys, bad values) on stderr yet may exit 0: any output is a failure.
  out=$(systemd-analyze verify "$unit" 2>&1) || fail "$unit: $out"
  [ -z "$out" ] || fail "$unit: $out"
  echo "ok $unit"
done

echo "== every option a unit passes is one its jar knows"
for spec in guardian:run worker:run manager:serve; do
  c=${spec%%:*}; sub=${spec#*:}
  help=$(java -jar "$c/target/hostdeploy-$c.jar" "$sub" --help)
  # ExecStart and its continuation lines, up to the first line not ending in a backslash.
  opts=$(sed -n '/^ExecStart=/,/[^\\]$/p' "systemd/hostdeploy-$c.service" | grep -o -- ' --[a-z-]*' | sort -u)
  for o in $opts; do
    grep -q -- "${o}[ =,]" <<<"$help" || fail "hostdeploy-$c.service passes $o, which '$c $sub' does not know"
  done
  echo "ok hostdeploy-$c.service:" "$(echo $opts)"
done

FP=sha256:$(printf '%064d' 0 | tr 0 a)
echo "== ./hostdeploy install-host --dry-run"
out=$(./hostdeploy install-host --dry-run --manager-fingerprint "$FP" --name ci-host --address 10.0.0.5 \
  --allowed-org acme --allowed-image debian-12)
echo "$out"
for want in "install -m 0644" "systemctl enable hostdeploy-guardian.service hostdeploy-worker.service" \
            "systemctl restart hostdeploy-guardian.service hostdeploy-worker.service" \
            "trust --dir /etc/hostdeploy/worker --name manager --fingerprint $FP" "POST /api/v1/hosts" \
            '"worker":{"address":"10.0.0.5:7443"' "WORKER_OPTS=--allowed-org acme --allowed-image debian-12" \
            "GUARDIAN_OPTS=--caddy-admin localhost:2019" "ensure packages: git docker.io docker-compose nftables iproute2 curl ca-certificates caddy"; do
  grep -qF -- "$want" <<<"$out" || fail "dry run does not show: $want"
done
./hostdeploy install-host --manager-fingerprint nope --dry-run >/dev/null 2>&1 && fail "a bad fingerprint was accepted"

echo "== install-host / uninstall-host into a scratch root (jars from target/)"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
./hostdeploy install-host --root "$root" --manager-fingerprint "$FP" --name ci-host --address 10.0.0.5 >"$root.out"
grep -q '"fingerprint":"sha256:[0-9a-f]\{64\}"' "$root.out" || fail "no fingerprints in the POST body: $(cat "$root.out")"
for f in opt/hostdeploy/hostdeploy-guardian.jar opt/hostdeploy/hostdeploy-worker.jar \
         etc/systemd/system/hostdeploy-guardian.service etc/hostdeploy/worker.env etc/hostdeploy/worker/key.pem \
         etc/hostdeploy/guardian/trusted.json; do
  [ -e "$root/$f" ] || fail "install-host did not make $f"
done
grep -q "$FP" "$root/etc/hostdeploy/worker/trusted.json" || fail "the Worker does not trust the Manager"
./hostdeploy uninstall-host --root "$root" >/dev/null
[ ! -e "$root/opt/hostdeploy/hostdeploy-worker.jar" ] || fail "uninstall-host left the jar"
[ -e "$root/etc/hostdeploy/worker/key.pem" ] || fail "uninstall-host without --purge removed the identity"
./hostdeploy uninstall-host --root "$root" --purge >/dev/null
[ ! -e "$root/etc/hostdeploy/worker" ] || fail "uninstall-host --purge left the identity"
rm -f "$root.out"
echo "ok install/uninstall"

echo "== docker-compose config"
docker-compose config -q
echo "ok docker-compose.yml"

echo "== the image build context (.dockerignore): poms and sources only"
# FROM scratch needs no registry: copy the context into an image and list it.
ctx=$(mktemp -d)
printf 'FROM scratch\nCOPY . /ctx/\n' >"$ctx/Dockerfile"
DOCKER_BUILDKIT=0 docker build -q -f "$ctx/Dockerfile" -t hostdeploy-ci/context-check . >/dev/null
id=$(docker create hostdeploy-ci/context-check /none)
docker export "$id" | tar -t | grep '^ctx/' >"$ctx/files"
docker export "$id" | tar -x -C "$ctx" ctx
docker rm "$id" >/dev/null && docker rmi hostdeploy-ci/context-check >/dev/null
grep -q '^ctx/manager/src/main/java/' "$ctx/files" || fail "the context lacks the Manager's sources"
bad=$(grep -vE '^ctx/$|^ctx/pom\.xml$|^ctx/[a-z]+/$|^ctx/[a-z]+/pom\.xml$|^ctx/[a-z]+/src/' "$ctx/files" || true)
[ -z "$bad" ] || fail "the context holds more than poms and sources: $bad"
# The image's build stage, on exactly that context (only its base image cannot be pulled here): the jar
# must come out of the same Maven command manager/Dockerfile runs (offline: the tests filled ~/.m2).
(cd "$ctx/ctx" && mvn -B -ntp -q -o -pl manager -am package -DskipTests -Djacoco.skip=true)
[ -s "$ctx/ctx/manager/target/hostdeploy-manager.jar" ] || fail "the Dockerfile's build command made no jar from the context"
rm -rf "$ctx"
echo "ok .dockerignore, and the image's build command on that context"

echo "== the image's class-data sharing archive (its RUN line, on this build's jar)"
jar=$PWD/manager/target/hostdeploy-manager.jar
cds=$(mktemp -d)
# The Dockerfile's own training line, on this build's jar and a scratch archive.
manager/cds-archive.sh "$jar" "$cds/manager.jsa" >"$cds/training.log" 2>&1 \
  || { tail -n 20 "$cds/training.log" >&2; fail "the training run failed"; }
grep -q 'class-data sharing training done' "$cds/training.log" || fail "the training run did not reach its end"
grep -q -- "-XX:SharedArchiveFile=/opt/hostdeploy/manager.jsa" manager/Dockerfile \
  || fail "the image's JAVA_OPTS do not use the archive its RUN line makes"
# -Xshare:on refuses to start on an archive it cannot map, so this proves the archive usable with that jar.
shared=$(java -Xshare:on -XX:SharedArchiveFile="$cds/manager.jsa" -Xlog:class+load=info -jar "$jar" --version \
  | grep -c 'source: shared objects file (top)' || true)
[ "$shared" -gt 100 ] || fail "only $shared classes came from the archive"
rm -rf "$cds"
echo "ok class-data sharing ($shared classes of a --version run mapped from the archive)"

#!/usr/bin/env bash
# Starts LXD and imports the images the Worker's LXC tests use. Idempotent: safe to run again.
# Expects lxd, debootstrap and busybox-static to be installed already (.ci/run does that).
#   hd-busybox  busybox-static only: no sshd, no package manager (most tests)
#   hd-debian   Debian bookworm from debootstrap with openssh-server (the SSH test; cached)
set -euo pipefail

SOCKET=/var/lib/lxd/unix.socket
CACHE=/var/cache/hostdeploy-ci
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$CACHE"

# --- id ranges -----------------------------------------------------------------------------------
# Every container the Worker makes is isolated (security.idmap.isolated): LXD gives it 65536 host ids
# of its own out of root's range in /etc/subuid and /etc/subgid, after the 65536 of the default map,
# and LXD 5.0 uses only root's first range of at least 65536. Make sure that range holds the default
# map plus MIN_ISOLATED containers; LXD reads the files when it starts, so a running one is restarted.
MIN_ISOLATED=${MIN_ISOLATED:-100}
want=$(( 65536 * (MIN_ISOLATED + 1) ))
root_range() { # $1 file: "start count" of root's first range of at least 65536 ids, or nothing
  awk -F: '$1 == "root" && $3 >= 65536 { print $2, $3; exit }' "$1" 2>/dev/null || true
}
widened=no
for f in /etc/subuid /etc/subgid; do
  read -r _ count <<<"$(root_range "$f")"
  if [ "${count:-0}" -lt "$want" ]; then
    # One range for root past every other entry (ranges must not overlap another user's), 1e9 ids as
    # LXD assumes when there are no shadow files: room for about 15,000 isolated containers.
    touch "$f"
    start=$(awk -F: 'BEGIN { m = 1000000 } $1 != "root" && $2 + $3 > m { m = $2 + $3 } END { print m }' "$f")
    start=$(( (start + 65535) / 65536 * 65536 ))
    sed -i '/^root:/d' "$f"
    echo "root:$start:1000000000" >>"$f"
    echo "widened root's range in $f to $start+1000000000" >&2
    widened=yes
  fi
done
if [ "$widened" = yes ] && pgrep -x lxd >/dev/null; then
  pkill -x lxd || true
  for _ in $(seq 1 120); do pgrep -x lxd >/dev/null || break; sleep 0.5; done
fi

# --- daemon --------------------------------------------------------------------------------------
if ! lxc query /1.0 >/dev/null 2>&1; then
  if ! pgrep -x lxd >/dev/null; then
    # No systemd unit is usable in CI containers; run the daemon in the background, logging to a file.
    # From /: daemons inherit the working directory, and rsync inside LXD fails if it is later deleted.
    (cd / && exec nohup lxd --group root --logfile /var/log/lxd-ci.log >/dev/null 2>&1 </dev/null) &
  fi
  for _ in $(seq 1 120); do
    [ -S "$SOCKET" ] && lxc query /1.0 >/dev/null 2>&1 && break
    sleep 0.5
  done
  lxc query /1.0 >/dev/null || { echo "LXD did not come up; see /var/log/lxd-ci.log" >&2; exit 1; }
fi
lxd waitready --timeout 60

# --- storage: `lxd init --auto` fails here (no bridge subnet), so set up only what we need -------
if ! lxc storage show default >/dev/null 2>&1; then
  lxc storage create default dir
fi
if ! lxc profile device show default | grep -q '^root:'; then
  lxc profile device add default root disk path=/ pool=default
fi

arch=$(uname -m)

metadata() { # $1 os name, $2 description
  cat <<EOF
architecture: $arch
creation_date: $(date +%s)
properties:
  os: $1
  release: ci
  architecture: $arch
  description: $2
templates:
  /etc/hostname:
    when: [create, copy]
    template: hostname.tpl
EOF
}

templates() { # $1 image work dir: the hostname follows the instance name, as with stock images
  mkdir -p "$1/templates"
  echo '{{ container.name }}' >"$1/templates/hostname.tpl"
}

# --- busybox image ------------------------------------------------------------------------------
if ! lxc image info hd-busybox >/dev/null 2>&1; then
  work=$(mktemp -d)
  root="$work/rootfs"
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc/init.d,proc,sys,dev,tmp,root,run,var/log}
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list-full); do
    [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
  done
  cat >"$root/etc/inittab" <<'EOF'
::sysinit:/etc/init.d/rcS
::shutdown:/bin/sync
EOF
  cat >"$root/etc/init.d/rcS" <<'EOF'
#!/bin/sh
mount -t tmpfs tmpfs /tmp 2>/dev/null
# Nothing else brings loopback up here, and LXD proxy devices connect through it.
ip link set lo up
[ -f /etc/hostname ] && hostname -F /etc/hostname
exit 0
EOF
  chmod 755 "$root/etc/init.d/rcS"
  chmod 1777 "$root/tmp"
  chmod 700 "$root/root"
  echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
  echo 'root:x:0:' >"$root/etc/group"
  metadata busybox "busybox-static test image" >"$work/metadata.yaml"
  templates "$work"
  tar -C "$work" --numeric-owner -czf "$work/image.tar.gz" metadata.yaml templates rootfs
  lxc image import "$work/image.tar.gz" --alias hd-busybox
  rm -rf "$work"
fi

# --- Debian image with OpenSSH (cached: debootstrap takes minutes) -----------------------------
if ! lxc image info hd-debian >/dev/null 2>&1; then
  tarball="$CACHE/debian-bookworm-ssh-v2.tar.gz"
  if [ ! -s "$tarball" ]; then
    work=$(mktemp -d)
    # Use apt's proxy settings, if any, for the mirror too.
    proxy=$(apt-config dump 2>/dev/null | sed -n 's/^Acquire::http::Proxy "\(.*\)";$/\1/p' | head -n1)
    if [ -n "$proxy" ]; then export http_proxy="$proxy"; fi
    debootstrap --variant=minbase --include=openssh-server,systemd-sysv,dbus,iproute2 \
      bookworm "$work/rootfs" "$DEBIAN_MIRROR" >"$work/debootstrap.log" 2>&1 \
      || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
    # Every container must get its own host keys: drop the ones made during the build; the Worker
    # runs `ssh-keygen -A` when it sets up sshd.
    rm -f "$work"/rootfs/etc/ssh/ssh_host_*
    rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/*
    metadata debian "Debian bookworm with openssh-server (CI)" >"$work/metadata.yaml"
    templates "$work"
    tar -C "$work" --numeric-owner -czf "$tarball.tmp" metadata.yaml templates rootfs
    mv "$tarball.tmp" "$tarball"
    rm -rf "$work"
  fi
  lxc image import "$tarball" --alias hd-debian
fi

lxc image list -c lfs --format csv

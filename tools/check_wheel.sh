#!/bin/sh
# A real install of the wheel on a machine without a compiler: a fresh Debian 12 root
# (debootstrap), given only python3-venv and libbpf1, then pip install the wheel and run
# count, -L, trace and doctor in it, against this machine's kernel.
#
#   tools/check_wheel.sh dist/syscount-<version>-py3-none-any.whl      (as root; `make check-wheel`)
#
# The debootstrapped base is kept as a tarball (CHECK_WHEEL_CACHE, default
# /var/tmp/syscount-check-wheel) so a second run skips debootstrap; every run unpacks a
# fresh root from it and installs the two packages there itself.
set -eu

wheel=${1:?usage: tools/check_wheel.sh WHEEL}
[ -f "$wheel" ] || { echo "check_wheel: $wheel not found (make wheel)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "check_wheel: needs root (debootstrap, chroot, BPF)" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "check_wheel: apt-get install debootstrap" >&2; exit 2; }

cache=${CHECK_WHEEL_CACHE:-/var/tmp/syscount-check-wheel}
mirror=${CHECK_WHEEL_MIRROR:-http://deb.debian.org/debian}
base=$cache/bookworm-minbase.tar
root=$(mktemp -d /var/tmp/syscount-root.XXXXXX)
started=$(date +%s)

step() { printf '\n== %s (%ss)\n' "$*" "$(($(date +%s) - started))"; }

cleanup() {
    for mount in dev/pts dev sys proc; do
        umount -R "$root/$mount" 2>/dev/null || umount -l "$root/$mount" 2>/dev/null || true
    done
    rm -rf --one-file-system "$root"
}
trap cleanup EXIT INT TERM

if [ ! -f "$base" ]; then
    step "debootstrap bookworm (minbase) into a cache: $base"
    mkdir -p "$cache"
    fresh=$(mktemp -d "$cache/bootstrap.XXXXXX")
    debootstrap --variant=minbase bookworm "$fresh" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
        { tail -20 "$cache/debootstrap.log" >&2; rm -rf "$fresh"; exit 1; }
    tar -C "$fresh" -cf "$base.tmp" . && mv "$base.tmp" "$base"
    rm -rf --one-file-system "$fresh"
fi

step "a fresh Debian 12 root from the base: $root"
tar -C "$root" -xf "$base"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# pip inside reaches PyPI through this machine's certificate authorities.
[ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$root/etc/host-ca.crt"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys" && mount --make-rslave "$root/sys"
mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev"
cp "$wheel" "$root/tmp/"
inside() { chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"; }

step "apt-get install python3-venv libbpf1 (and nothing else)"
inside apt-get update -q >/dev/null
inside env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-venv libbpf1 >/dev/null
inside dpkg-query -W -f='${Package} ${Version}\n' python3 python3-venv libbpf1

step "no compiler in the root"
for tool in clang gcc cc; do
    if inside sh -c "command -v $tool"; then echo "check_wheel: $tool is installed in the root" >&2; exit 1; fi
    echo "$tool: absent"
done

step "pip install $(basename "$wheel")"
cert=""
[ -f "$root/etc/host-ca.crt" ] && cert="--cert /etc/host-ca.crt"
inside python3 -m venv /opt/syscount
# shellcheck disable=SC2086  # $cert is two words or none
inside /opt/syscount/bin/pip install -q --disable-pip-version-check $cert "/tmp/$(basename "$wheel")"
inside sh -c 'ls -l /opt/syscount/share/man/man1/syscount.1 /opt/syscount/lib/python3*/site-packages/syscount/bpf/*/counts.bpf.o'

step "syscount --version"
inside /opt/syscount/bin/syscount --version

step "syscount doctor"
inside /opt/syscount/bin/syscount doctor

step "count: syscount -T 5 -- /bin/true"
inside /opt/syscount/bin/syscount -T 5 -- /bin/true

step "count, system-wide for 1 s: syscount -d 1 -T 3"
inside /opt/syscount/bin/syscount -d 1 -T 3

step "latency: syscount -L -T 5 -- /bin/true"
inside /opt/syscount/bin/syscount -L -T 5 -- /bin/true

step "trace: syscount trace -- /bin/true"
inside /opt/syscount/bin/syscount trace -- /bin/true

step "check_wheel: all passed"

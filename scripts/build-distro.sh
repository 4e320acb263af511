#!/usr/bin/env bash
# Build, sign and publish a Guifi-Community-Distro root filesystem image.
#
# The image is a Debian root filesystem made by debootstrap from Debian's own packages
# (minbase, plus systemd as init and avahi-daemon for mDNS service discovery), tarred with
# numeric owners and extended attributes, signed with an ed25519 publisher key (see
# libs/guificloud/signing.py) and pushed to the image store in one request. The box agent's
# lxc driver boots it as the platform container (lxc.init.cmd = /sbin/init).
#
# Usage (as root, on Debian; needs debootstrap, curl and this repository's venv):
#   scripts/build-distro.sh --version 2026.11.1 --key publisher.key \
#       --store http://127.0.0.1:8104
#
# Options (--option VALUE or --option=VALUE):
#   --version V      image version (required)
#   --key FILE       publisher private key: base64 of its 32 raw bytes (required to sign);
#                    make one with:  scripts/build-distro.sh --new-key FILE
#                    (prints the public key, to register with the store's POST /api/v1/keys)
#   --store URL      image store base URL; without it the image is built and signed only
#   --suite S        Debian suite (default bookworm)
#   --arch A         Debian architecture (default: this host's, dpkg --print-architecture)
#   --mirror URL     Debian mirror (default http://deb.debian.org/debian)
#   --include P,Q    extra packages, comma separated
#   --format F       tar.gz (default) or tar.xz
#   --channel C      image channel (default stable)
#   --out DIR        where the image and its manifest are kept (default ./build)
#   --rootfs DIR     skip debootstrap and package this existing root filesystem
#   --python PATH    Python with the guificloud package (default .venv/bin/python)
#
# Output: DIR/guifi-community-distro_V_A.tar.gz and a .json manifest beside it (name,
# version, arch, format, digest, size, signature, key_id); the store's answer on push. A
# store must trust the key for the distro's name first (POST /api/v1/keys with "names", admin).
# Pushing needs credentials: guificloud login (an operator: the distro is the deployment's),
# GUIFICLOUD_TOKEN, or GUIFICLOUD_ADMIN_TOKEN.
#
# On a bookworm amd64 host with a fast mirror: debootstrap ~45 s, whole build ~60 s, a
# 64 MB tar.gz (180 MB unpacked) that the lxc driver boots to systemd "running" with
# avahi-daemon active in under a second.
set -euo pipefail

NAME=guifi-community-distro
PACKAGES=systemd-sysv,dbus,avahi-daemon,libnss-mdns,iproute2,iputils-ping,ca-certificates,procps
REPO=$(cd "$(dirname "$0")/.." && pwd)

version="" key="" store="" suite=bookworm arch="" mirror=http://deb.debian.org/debian
extra="" format=tar.gz channel=stable out=./build rootfs="" python="$REPO/.venv/bin/python"

die() { echo "build-distro: $*" >&2; exit 1; }
say() { echo "build-distro: $*" >&2; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in --*=*) set -- "${1%%=*}" "${1#*=}" "${@:2}" ;; esac
    case "$1" in
        --version) version=$2; shift 2 ;;
        --key) key=$2; shift 2 ;;
        --store) store=${2%/}; shift 2 ;;
        --suite) suite=$2; shift 2 ;;
        --arch) arch=$2; shift 2 ;;
        --mirror) mirror=$2; shift 2 ;;
        --include) extra=$2; shift 2 ;;
        --format) format=$2; shift 2 ;;
        --channel) channel=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --rootfs) rootfs=$2; shift 2 ;;
        --python) python=$2; shift 2 ;;
        --new-key)
            [ -e "$2" ] && die "$2 exists; not overwriting a key"
            (umask 077; "$python" -c 'import sys
from guificloud import signing
private, public = signing.generate_key()
open(sys.argv[1], "w").write(private + "\n")
print(f"public key: {public}\nkey id:     {signing.key_id(public)}")' "$2")
            exit 0 ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done

[ -n "$version" ] || die "--version is required"
[ -n "$key" ] || die "--key is required (make one with --new-key FILE)"
[ -r "$key" ] || die "cannot read the key file $key"
case "$format" in
    tar.gz) compress=(gzip -n -9) ;;
    tar.xz) compress=(xz -T0 -6) ;;
    *) die "--format must be tar.gz or tar.xz" ;;
esac
[ -x "$python" ] || die "no Python at $python (give --python)"
"$python" -c 'import guificloud.signing' || die "$python cannot import guificloud"
arch=${arch:-$(dpkg --print-architecture)}

work=$(mktemp -d /var/tmp/build-distro.XXXXXX)
trap 'rm -rf --one-file-system "$work"' EXIT

started=$(date +%s)
if [ -z "$rootfs" ]; then
    [ "$(id -u)" -eq 0 ] || die "run as root (debootstrap makes device nodes and owners)"
    command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
    rootfs="$work/rootfs"
    packages=$PACKAGES${extra:+,$extra}
    say "debootstrap $suite $arch with $packages"
    debootstrap --variant=minbase --arch="$arch" --include="$packages" "$suite" "$rootfs" "$mirror"
    # One image, many boxes: nothing that must be unique per machine is baked in.
    : > "$rootfs/etc/machine-id"
    rm -f "$rootfs/var/lib/dbus/machine-id"
    echo "$NAME" > "$rootfs/etc/hostname"
    printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
        "$NAME" > "$rootfs/etc/hosts"
    printf 'NAME=%s\nVERSION=%s\nSUITE=%s\nARCH=%s\n' "$NAME" "$version" "$suite" "$arch" \
        > "$rootfs/etc/guifi-community-distro-release"
    chroot "$rootfs" systemctl enable avahi-daemon.service >/dev/null 2>&1 || true
    chroot "$rootfs" apt-get clean
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/log/*.log
    say "debootstrap took $(( $(date +%s) - started )) s"
fi
[ -e "$rootfs/sbin/init" ] || [ -L "$rootfs/sbin/init" ] || die "$rootfs has no /sbin/init"

mkdir -p "$out"
image="$out/${NAME}_${version}_${arch}.$format"
say "packing $rootfs into $image"
tar --create --numeric-owner --xattrs --xattrs-include='*' --one-file-system \
    --exclude='./proc/*' --exclude='./sys/*' --exclude='./dev/*' --exclude='./run/*' \
    --exclude='./tmp/*' --directory="$rootfs" . | "${compress[@]}" > "$image.tmp"
mv "$image.tmp" "$image"
digest="sha256:$(sha256sum "$image" | cut -d' ' -f1)"
size=$(stat -c %s "$image")

# Sign (name, version, arch, digest) and write the manifest; the query string is built here
# too, so that the base64 signature is URL-encoded.
query=$("$python" - "$key" "$NAME" "$version" "$arch" "$digest" "$format" "$channel" "$size" \
    "$image.json" <<'PY'
import json, sys
from urllib.parse import urlencode
from guificloud import signing
key_file, name, version, arch, digest, fmt, channel, size, manifest = sys.argv[1:]
private = open(key_file).read().strip()
signature = signing.sign(private, name, version, arch, digest)
key_id = signing.key_id(signing.public_of(private))
meta = {"name": name, "version": version, "arch": arch, "format": fmt, "channel": channel}
with open(manifest, "w") as f:
    json.dump({**meta, "digest": digest, "size": int(size), "signature": signature,
               "key_id": key_id}, f, indent=2)
print(urlencode({**meta, "digest": digest, "signature": signature, "key_id": key_id}))
PY
)
say "built $image ($size bytes, $digest) in $(( $(date +%s) - started )) s"

if [ -z "$store" ]; then
    say "no --store: not pushed; manifest in $image.json"
    exit 0
fi
command -v curl >/dev/null || die "curl is not installed (apt-get install curl); $image is built"
# Publishing is for publishers: the caller's stored login (guificloud login), an API token
# (GUIFICLOUD_TOKEN) or the admin token (GUIFICLOUD_ADMIN_TOKEN); the header goes to curl on
# its standard input, never on its command line (which ps shows to every user).
authorization=$("$python" -c 'from guificloud.credentials import authorization_header as a; print(a() or "")') \
    || die "cannot get credentials for the store"
[ -n "$authorization" ] || die "no credentials: guificloud login, GUIFICLOUD_TOKEN or GUIFICLOUD_ADMIN_TOKEN; $image is built"
say "pushing to $store"
printf 'Authorization: %s\n' "$authorization" | curl --fail-with-body --show-error --progress-bar \
    --request POST --header @- \
    --header 'Content-Type: application/octet-stream' --upload-file "$image" \
    "$store/api/v1/images?$query"
echo

#!/usr/bin/env bash
# Install the Debian packages that the LXC tests and the distro build need.
#
# lxc (LXC 5 tools) runs the agent's real containers, busybox-static makes the tests' tiny
# root filesystem, debootstrap and curl build and push the real Guifi-Community-Distro.
# Best effort by design: on a machine that is not Debian, or without root, it says so and
# goes on, and the LXC tests skip with that reason printed.
set -uo pipefail

PACKAGES=(lxc busybox-static debootstrap curl)

if ! command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: no apt-get here; LXC tests will be skipped" >&2
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "system-deps: not root; LXC tests will be skipped" >&2
    exit 0
fi
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" = 0 ]; then
    exit 0
fi
echo "system-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; }; then
    echo "system-deps: apt-get failed; LXC tests will be skipped" >&2
fi
exit 0

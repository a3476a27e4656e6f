#!/bin/sh
# fetch.sh CACHE — make sure CACHE holds Debian 12's i386 kernels and busybox:
#   CACHE/boot/vmlinuz-<version>-686, CACHE/boot/vmlinuz-<version>-686-pae,
#   CACHE/bin/busybox (busybox-static, a static i386 binary)
# On first use the packages are fetched with `apt-get download` (the exact
# kernel package is what linux-image-686:i386 depends on) and only those
# files are extracted from them. i386 packages need the i386 architecture
# in dpkg and fresh package lists: added here when running as root.
#
# Exit status: 0 ready; 77 no archive reachable and BT86_OFFLINE=1 (the
# caller reports the test skipped); 1 anything else, with one clear line.
set -u
cache=$1

ready() {
    ls "$cache"/boot/vmlinuz-*-686 >/dev/null 2>&1 &&
    ls "$cache"/boot/vmlinuz-*-686-pae >/dev/null 2>&1 &&
    [ -x "$cache/bin/busybox" ]
}

unavailable() {
    echo "linux test: cannot fetch the Debian i386 packages: $*" >&2
    if [ "${BT86_OFFLINE:-0}" = 1 ]; then
        echo "linux test: BT86_OFFLINE=1, so the Linux boot is skipped" >&2
        exit 77
    fi
    echo "linux test: (with no package archive reachable, set BT86_OFFLINE=1 to skip)" >&2
    exit 1
}

# Kernel package that the meta-package (linux-image-686 or -686-pae) pulls in.
kernel_package() {
    apt-cache depends "$1:i386" 2>/dev/null |
        sed -n "s/^ *Depends: \(linux-image-[0-9][^:]*-$2\)\(:i386\)\{0,1\}$/\1/p" | head -n 1
}

ready && exit 0
mkdir -p "$cache/debs" || exit 1
if ! dpkg --print-foreign-architectures | grep -qx i386 ||
   [ -z "$(kernel_package linux-image-686 686)" ]; then
    [ "$(id -u)" = 0 ] ||
        unavailable "i386 is not a dpkg architecture here; run as root once (dpkg --add-architecture i386 && apt-get update)"
    dpkg --add-architecture i386 || unavailable "dpkg --add-architecture i386 failed"
    apt-get update -qq >/dev/null 2>&1 || unavailable "apt-get update failed"
fi
k686=$(kernel_package linux-image-686 686)
kpae=$(kernel_package linux-image-686-pae 686-pae)
[ -n "$k686" ] && [ -n "$kpae" ] || unavailable "apt-cache knows no linux-image-686:i386"
(cd "$cache/debs" && apt-get download -q "$k686:i386" "$kpae:i386" busybox-static:i386 \
    >download.log 2>&1) || unavailable "apt-get download $k686 $kpae busybox-static failed (see $cache/debs/download.log)"
for deb in "$cache"/debs/*.deb; do
    case $deb in
    */busybox-static_*) want=./bin/busybox ;;
    *) want=./boot ;;
    esac
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$cache" "$want" ||
        { echo "linux test: cannot extract $want from $deb" >&2; exit 1; }
done
ready || { echo "linux test: the packages in $cache/debs lack vmlinuz or busybox" >&2; exit 1; }
rm -f "$cache"/debs/*.deb
exit 0

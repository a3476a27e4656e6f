#!/bin/sh
# snapshot.sh BT86 FLAVOUR WORKDIR — Linux across a snapshot: boot Debian's
# kernel with the busybox initramfs, save the machine with the monitor's
# savevm when the kernel says "Run /init" (a printk line, never split by
# other output; the guest is somewhere after it by then), quit; then boot.sh's whole check
# (marker, the workload's sha256 equal to the host's, exit status 11) on
# a fresh bt86 started with -loadvm. Exit 77: skipped (BT86_OFFLINE=1).
set -u
bt86=$1 flavour=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work/snapshot-$flavour" || exit 1
work=$(cd "$work" && pwd)
flock "$work/fetch.lock" sh "$here/fetch.sh" "$work/cache"
status=$?
[ $status -eq 0 ] || exit $status
kernel=$(ls "$work"/cache/boot/vmlinuz-*-"$flavour" | head -n 1)
initrd=$work/snapshot-$flavour/initramfs.cpio
snap=$work/snapshot-$flavour/linux.bt86
python3 "$here/mkinitramfs.py" "$initrd" "$work/cache/bin/busybox" "$here/init" "$here/workload.sh" ||
    exit 1
rm -f "$snap"
python3 "$here/savevm-at.py" "Run /init" "$snap" -- "$bt86" --cpu-limit "${LINUX_CPU_LIMIT:-60}" \
    -m 128 -kernel "$kernel" -initrd "$initrd" -append "console=ttyS0 panic=-1" \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 -display none -serial stdio || exit 1
sh "$here/boot.sh" "$bt86" "$flavour" "$work" -loadvm "$snap"
status=$?
rm -f "$snap"
exit $status

#!/bin/sh
# shell.sh BT86 WORKDIR — `make run-linux`: boot Debian 12's 686 kernel with
# the test initramfs and an interactive busybox shell on this terminal
# (-serial stdio). `poweroff -f` in the guest halts it and bt86 exits 0.
# The terminal is switched to character-at-a-time without echo (the guest
# echoes); Ctrl-C still ends bt86.
set -u
bt86=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work" || exit 1
work=$(cd "$work" && pwd)
flock "$work/fetch.lock" sh "$here/fetch.sh" "$work/cache" || exit 1
kernel=$(ls "$work"/cache/boot/vmlinuz-*-686 | head -n 1)
initrd=$work/shell.cpio
python3 "$here/mkinitramfs.py" "$initrd" "$work/cache/bin/busybox" "$here/init" \
    "$here/workload.sh" || exit 1
saved=
if [ -t 0 ]; then
    saved=$(stty -g)
    stty -icanon -echo min 1
fi
"$bt86" -m 256 -kernel "$kernel" -initrd "$initrd" -append "console=ttyS0 panic=-1 bt86.shell" \
    -display none -serial stdio
status=$?
[ -n "$saved" ] && stty "$saved"
exit $status

#!/bin/sh
# boot.sh BT86 FLAVOUR WORKDIR [BT86 ARGS...] — boot Debian 12's i386 kernel
# (FLAVOUR 686 or 686-pae) with a busybox initramfs and check that it ran the
# workload to the end: the marker, the workload's sha256 equal to the same
# busybox's result run natively on the host, and exit status 11 (the guest's
# isa-debug-exit write of 5). WORKDIR/cache holds the packages (fetch.sh).
# The run is bounded by bt86's CPU-time budget, LINUX_CPU_LIMIT seconds
# (default 60), not by wall time. Exit 77: skipped (BT86_OFFLINE=1).
set -u
if [ $# -lt 3 ]; then
    echo "usage: $0 BT86 FLAVOUR WORKDIR [BT86 ARGS...]" >&2
    exit 2
fi
bt86=$1 flavour=$2 work=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work/$flavour" || exit 1
work=$(cd "$work" && pwd)
cache=$work/cache

# One fetch at a time (ctest runs the flavours in parallel).
flock "$work/fetch.lock" sh "$here/fetch.sh" "$cache"
status=$?
[ $status -eq 0 ] || exit $status
kernel=$(ls "$cache"/boot/vmlinuz-*-"$flavour" | head -n 1)
busybox=$cache/bin/busybox
initrd=$work/$flavour/initramfs.cpio
python3 "$here/mkinitramfs.py" "$initrd" "$busybox" "$here/init" "$here/workload.sh" || exit 1

# The expected result: the same static i386 busybox, run on the host. A host
# kernel without IA32 emulation (CONFIG_IA32_EMULATION off or ia32_emulation=0,
# as on some nested clouds) cannot execute it; the workload is plain POSIX
# text processing, so the host's own tools then give the same result.
if "$busybox" true 2>/dev/null; then
    hostbin=$work/$flavour/hostbin
    rm -rf "$hostbin" && mkdir -p "$hostbin" && "$busybox" --install -s "$hostbin" || exit 1
    expected=$(cd "$work/$flavour" && PATH=$hostbin TMPDIR=$work/$flavour "$busybox" sh "$here/workload.sh")
else
    echo "linux test: this host cannot run i386 programs; the expected result comes from its own tools"
    expected=$(cd "$work/$flavour" && LC_ALL=C TMPDIR=$work/$flavour sh "$here/workload.sh")
fi
case $expected in
"workload "*) ;;
*) echo "linux test: the workload does not run natively: '$expected'"; exit 1 ;;
esac

out=$work/$flavour/console.log
"$bt86" --cpu-limit "${LINUX_CPU_LIMIT:-60}" -m 128 -kernel "$kernel" -initrd "$initrd" \
    -append "console=ttyS0 panic=-1" -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -display none -serial stdio "$@" </dev/null >"$out" 2>&1
status=$?
cat "$out"
tr -d '\r' <"$out" >"$out.txt"    # the serial console ends lines with CR LF
out=$out.txt

fail=0
if [ $status -ne 11 ]; then
    echo "linux test: bt86 exit status $status, expected 11 (isa-debug-exit 5)"
    fail=1
fi
grep -q '^BT86-LINUX-DONE' "$out" || { echo "linux test: no BT86-LINUX-DONE marker"; fail=1; }
if ! grep -q "^$expected\$" "$out"; then
    echo "linux test: the guest's workload result differs from the host's: $expected"
    fail=1
fi
[ $fail -eq 0 ] && echo "linux test: $(basename "$kernel") booted, workload matches the host"
exit $fail

# workloads.sh — the user workloads of bench/linux, run by the same static
# i386 busybox inside the guest (from /init) and natively on the host.
# Each measured part sits between "BENCH-BEGIN name" and "BENCH-END name
# result" lines; the host times the VM (or native) process between the two
# (bench/vmtime.py). Set-up (making input files) happens outside them.
# BB is the busybox binary; `$BB true` is a fork plus an execve of it.
set -e
BB=${BB:-busybox}
d=${TMPDIR:-/tmp}/bench.$$
mkdir -p "$d"
cd "$d"

echo "BENCH-BEGIN forkexec"
i=0
while [ $i -lt 2000 ]; do
    "$BB" true
    i=$((i + 1))
done
echo "BENCH-END forkexec $i"

dd if=/dev/zero of=zero bs=1048576 count=64 2>/dev/null
echo "BENCH-BEGIN sha256"
r=$(sha256sum zero | cut -c 1-16)
echo "BENCH-END sha256 $r"
rm -f zero

seq 1 3000000 | head -c 16777216 > text
echo "BENCH-BEGIN gzip"
r=$(gzip -6 -c text | wc -c)
echo "BENCH-END gzip $r"
rm -f text

# Ping-pong: 50,000 round trips through two FIFOs = 10^5 messages, each
# one line written by echo and read back by the shell's read.
mkfifo ping pong
(
    while read -r x; do echo "$x"; done <ping >pong
) &
exec 3>ping 4<pong
echo "BENCH-BEGIN pipe"
i=0
while [ $i -lt 50000 ]; do
    echo $i >&3
    read -r y <&4
    i=$((i + 1))
done
exec 3>&-
wait
echo "BENCH-END pipe $y"
exec 4<&-
cd /
rm -rf "$d"

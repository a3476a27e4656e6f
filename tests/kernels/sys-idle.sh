#!/bin/sh
# sys-idle.sh COMMAND... — runs a kernel that idles in HLT (sys_timer.elf
# -append idle, about two seconds of `sti; hlt` with a 1 kHz timer) and
# checks that it passed and that the VM used little host CPU: user + system
# time below half a second (a busy-waiting HLT would use all two seconds).
set -u
out=$(mktemp "${TMPDIR:-/tmp}/sys-idle.XXXXXX") || exit 2
trap 'rm -f "$out"' EXIT
# /proc/self/stat of the shell's children after the run: fields 16 and 17
# (cutime, cstime) in clock ticks.
ticks() { awk '{ print $16 + $17 }' /proc/$$/stat; }
before=$(ticks)
"$@" </dev/null >"$out" 2>&1
status=$?
after=$(ticks)
cat "$out"
hz=$(getconf CLK_TCK)
used=$((after - before))
echo "sys-idle: host CPU ${used}/${hz} s"
if [ "$status" -ne 1 ] || ! grep -q "PASS sys_timer idle" "$out"; then
    echo "sys-idle: the kernel did not pass (status $status)"
    exit 1
fi
if [ "$used" -gt $((hz / 2)) ]; then
    echo "sys-idle: too much host CPU while the guest idles in HLT"
    exit 1
fi
exit 0

#!/bin/sh
# gdb-test.sh BT86 KERNEL — bt86's GDB stub driven by the real gdb in batch
# mode against the gdb_target kernel (1-5 on a Unix socket in a temporary
# folder):
#   1. -S: break at a symbol, registers, a variable read and written, stepi,
#      memory, detach; the kernel then passes only because of the write.
#   2. Ctrl-C: the kernel spins, gdb is interrupted (SIGINT -> 0x03 byte).
#   3. -gdb without -S: gdb attaches to the running, spinning guest.
#   4. a write watchpoint; 4b. read and access watchpoints (rwatch, awatch).
#   5. Ctrl-C during a HLT nothing else would end, then kill.
#   6. a breakpoint session over TCP (-gdb tcp:127.0.0.1:PORT).
# The waits are for guest output ("spinning"); timeouts are a safety net.
set -u
bt86=$1
kernel=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/gdb-test.XXXXXX") || exit 2
trap 'rm -rf "$dir"' EXIT
sock=$dir/sock
fail=0
gdb_batch() {
    timeout 60 gdb -nx -batch -ex 'set pagination off' -ex 'set confirm off' \
        -ex "file $kernel" -ex "target remote $sock" "$@"
}
# expect FILE REGEX: the file must match
expect() {
    if ! grep -Eq "$2" "$1"; then
        echo "gdb-test: $(basename "$1") lacks /$2/"
        fail=1
    fi
}
# wait_for FILE TEXT: the guest printed TEXT (bounded by the VM's timeout)
wait_for() {
    for _ in $(seq 300); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
# start_vm NAME ARGS...: bt86 in the background, its status in NAME.status
start_vm() {
    name=$1
    shift
    rm -f "$sock"
    (timeout 60 "$bt86" -display none -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -gdb "unix:$sock" "$@" "$kernel" >"$dir/$name.vm" 2>&1
     echo $? >"$dir/$name.status") &
    vm_pid=$!
    for _ in $(seq 300); do
        [ -S "$sock" ] && return 0
        sleep 0.1
    done
}
# finish_vm NAME [STATUS]: bt86's exit status (default 1: the kernel passed)
finish_vm() {
    wait "$vm_pid"
    cat "$dir/$1.vm"
    status=$(cat "$dir/$1.status")
    if [ "$status" != "${2:-1}" ]; then
        echo "gdb-test: $1: bt86 exit status $status, expected ${2:-1}"
        fail=1
    fi
}

# 1. start stopped, breakpoint, registers, variables, stepi, memory, detach
start_vm session -S
gdb_batch -ex 'break gdb_checkpoint' -ex continue -ex 'info registers' \
    -ex 'p gdb_counter' -ex 'set var gdb_answer = 42' -ex 'p gdb_answer' -ex stepi \
    -ex 'p $pc' -ex 'x/4x &gdb_words' -ex 'set var gdb_words[1] = 0x5a5a5a5a' \
    -ex 'x/2x &gdb_words' -ex continue -ex 'p gdb_counter' -ex 'p $eax' \
    -ex 'set var $eax = 0x1234' -ex 'p/x $eax' -ex 'set var $eax = 2' -ex 'info registers xmm0 mxcsr st0' \
    -ex delete -ex detach >"$dir/session.gdb" 2>&1
cat "$dir/session.gdb"
finish_vm session
g=$dir/session.gdb
expect "$g" '^Breakpoint 1, gdb_checkpoint \(n=n@entry=1\)'
expect "$g" '^eip +0x[0-9a-f]+ +0x[0-9a-f]+ <gdb_checkpoint>'
expect "$g" '^cs +0x8 '
expect "$g" '^ss +0x10 '
expect "$g" '^\$1 = 0$'
expect "$g" '^\$2 = 42$'
expect "$g" '^\$3 = \(void \(\*\)\(\)\) 0x[0-9a-f]+ <gdb_checkpoint\+[1-9][0-9]*>'
expect "$g" '<gdb_words>:	0x11111111	0x22222222	0x33333333	0x44444444'
expect "$g" '<gdb_words>:	0x11111111	0x5a5a5a5a$'
expect "$g" '^Breakpoint 1, gdb_checkpoint \(n=n@entry=2\)'
expect "$g" '^\$4 = 1$'
expect "$g" '^\$6 = 0x1234$'
expect "$g" '^mxcsr +0x1f80'
expect "$g" 'detached'
expect "$dir/session.vm" 'counter 6 answer 42'

# 2. Ctrl-C while the guest runs
start_vm interrupt -S -append spin
# Not through gdb_batch: $! must be timeout's pid, which passes SIGINT on to
# gdb. --foreground: only to gdb; else timeout also signals its process
# group, gdb gets a second SIGINT while it waits for the stop (on a loaded
# host), asks "not responding to interrupt requests?" and disconnects.
timeout --foreground 60 gdb -nx -batch -ex 'set pagination off' -ex "file $kernel" -ex "target remote $sock" \
    -ex continue -ex 'p gdb_spins > 0' -ex 'set var gdb_release = 1' \
    -ex 'set var gdb_answer = 42' -ex detach >"$dir/interrupt.gdb" 2>&1 &
gdb_pid=$!
wait_for "$dir/interrupt.vm" spinning
kill -INT "$gdb_pid"
wait "$gdb_pid"
cat "$dir/interrupt.gdb"
finish_vm interrupt
expect "$dir/interrupt.gdb" 'received signal SIGINT'
expect "$dir/interrupt.gdb" '^\$1 = 1$'

# 3. attach to a running guest (no -S)
start_vm attach -append spin
wait_for "$dir/attach.vm" spinning
gdb_batch -ex 'p gdb_spins > 0' -ex 'set var gdb_release = 1' -ex 'set var gdb_answer = 42' \
    -ex detach >"$dir/attach.gdb" 2>&1
cat "$dir/attach.gdb"
finish_vm attach
expect "$dir/attach.gdb" '^\$1 = 1$'

# 4. a write watchpoint
start_vm watch -S
gdb_batch -ex 'watch gdb_counter' -ex continue -ex continue -ex delete \
    -ex 'set var gdb_answer = 42' -ex detach >"$dir/watch.gdb" 2>&1
cat "$dir/watch.gdb"
finish_vm watch
expect "$dir/watch.gdb" '^Hardware watchpoint 1: gdb_counter'
expect "$dir/watch.gdb" '^New value = 1$'
expect "$dir/watch.gdb" '^Old value = 1$'
expect "$dir/watch.gdb" '^New value = 3$'

# 4b. read and access watchpoints on gdb_counter, which gdb_checkpoint
#     reads with one instruction and writes with a later one: rwatch stops
#     after each read and never at the write between; awatch at both.
start_vm rwatch -S
gdb_batch -ex 'rwatch gdb_counter' -ex continue -ex 'p $pc' -ex continue -ex 'p $pc' -ex delete \
    -ex 'awatch gdb_counter' -ex continue -ex 'p $pc' -ex continue -ex 'p $pc' -ex delete \
    -ex 'set var gdb_answer = 42' -ex detach >"$dir/rwatch.gdb" 2>&1
cat "$dir/rwatch.gdb"
finish_vm rwatch
g=$dir/rwatch.gdb
expect "$g" '^Hardware read watchpoint 1: gdb_counter'
expect "$g" '^Value = 0$'
expect "$g" '^\$1 = \(void \(\*\)\(\)\) 0x[0-9a-f]+ <gdb_checkpoint\+5>'
expect "$g" '^Value = 1$'
expect "$g" '^\$2 = \(void \(\*\)\(\)\) 0x[0-9a-f]+ <gdb_checkpoint\+5>'
expect "$g" '^Hardware access \(read/write\) watchpoint 2: gdb_counter'
expect "$g" '^Old value = 1$'
expect "$g" '^New value = 3$'
expect "$g" '^\$3 = \(void \(\*\)\(\)\) 0x[0-9a-f]+ <gdb_checkpoint\+16>'
expect "$g" '^Value = 3$'
expect "$g" '^\$4 = \(void \(\*\)\(\)\) 0x[0-9a-f]+ <gdb_checkpoint\+5>'

# 5. Ctrl-C while the guest sleeps in HLT with nothing to wake it, then kill
start_vm sleep -S -append sleep
timeout --foreground 60 gdb -nx -batch -ex 'set pagination off' -ex 'set confirm off' -ex "file $kernel" \
    -ex "target remote $sock" -ex continue -ex 'p gdb_sleeping' -ex kill >"$dir/sleep.gdb" 2>&1 &
gdb_pid=$!
wait_for "$dir/sleep.vm" sleeping
kill -INT "$gdb_pid"
wait "$gdb_pid"
cat "$dir/sleep.gdb"
finish_vm sleep 0
expect "$dir/sleep.gdb" 'received signal SIGINT'
expect "$dir/sleep.gdb" '^\$1 = 1$'
expect "$dir/sleep.vm" 'killed by the debugger'

# 6. over TCP (-gdb tcp:127.0.0.1:PORT): a port from the pid, another if taken
for try in 1 2 3 4 5; do
    port=$(( 20000 + ($$ * 7 + try * 997) % 40000 ))
    rm -f "$dir/tcp.status"
    (timeout 60 "$bt86" -display none -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -S -gdb "tcp:127.0.0.1:$port" "$kernel" >"$dir/tcp.vm" 2>&1
     echo $? >"$dir/tcp.status") &
    vm_pid=$!
    hexport=$(printf '%04X' "$port")
    listening=
    for _ in $(seq 300); do
        if grep -q ":$hexport 00000000:0000 0A" /proc/net/tcp 2>/dev/null; then
            listening=1
            break
        fi
        [ -f "$dir/tcp.status" ] && break       # the port was taken
        sleep 0.1
    done
    [ -n "$listening" ] && break
    wait "$vm_pid"
done
timeout 60 gdb -nx -batch -ex "file $kernel" -ex "target remote 127.0.0.1:$port" \
    -ex 'break gdb_checkpoint' -ex continue -ex 'set var gdb_answer = 42' -ex delete \
    -ex detach >"$dir/tcp.gdb" 2>&1
cat "$dir/tcp.gdb"
finish_vm tcp
expect "$dir/tcp.gdb" '^Breakpoint 1, gdb_checkpoint'

[ $fail = 0 ] && echo "gdb-test: PASS"
exit $fail

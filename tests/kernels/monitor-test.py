#!/usr/bin/env python3
"""monitor-test.py BT86 KERNEL — bt86's HMP (-monitor unix:), QMP (-qmp unix:)
and -serial mon:stdio, scripted against the gdb_target kernel ("spin": it
counts gdb_spins until released; "sleep": HLT for ever).

Every wait is for an answer or guest output; the timeouts are a safety net.
Addresses come from the kernel's symbols (nm)."""
import json, os, subprocess, sys, tempfile, time

from hmp_client import Hmp, connect

bt86, kernel = sys.argv[1], sys.argv[2]
TIMEOUT = 60
fails = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        fails.append(what)


def symbol(name):
    out = subprocess.run(["nm", kernel], capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[2] == name:
            return int(f[0], 16)
    raise SystemExit("monitor-test: no symbol " + name)


def start(args, stdin=subprocess.DEVNULL):
    return subprocess.Popen([bt86, "-display", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
                            + args + [kernel], stdin=stdin, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


class Qmp:
    def __init__(self, path):
        self.s = connect(path)
        self.f = self.s.makefile("rb")
        self.events = []
        self.greeting = self.read()

    def read(self):
        line = self.f.readline()
        return json.loads(line) if line else None

    def send_raw(self, data):
        self.s.sendall(data)
        while True:
            r = self.read()
            if r is None or "event" not in r:
                return r
            self.events.append(r)

    def cmd(self, name, **kw):
        req = {"execute": name}
        req.update(kw)
        return self.send_raw(json.dumps(req).encode() + b"\n")

    def event(self, name):
        while not any(e["event"] == name for e in self.events):
            r = self.read()
            if r is None:
                return False
            self.events.append(r)
        return True


def spins(h):
    out = h.cmd("x /1wx 0x%x" % symbol("gdb_spins"))
    return int(out.split()[-1], 16)


tmp = tempfile.mkdtemp(prefix="monitor-test.")
hsock, qsock = os.path.join(tmp, "hmp"), os.path.join(tmp, "qmp")

# 1. HMP and QMP on a spinning guest
vm = start(["-append", "spin", "-monitor", "unix:%s,server,nowait" % hsock,
            "-qmp", "unix:%s,server,nowait" % qsock])
h = Hmp(hsock)
check("monitor" in h.banner, "HMP banner")
regs = h.cmd("info registers")
check("EIP=" in regs and "CR0=" in regs and "CS =0008" in regs, "info registers shows EIP, CR0, CS")
check("* CPU #0" in h.cmd("info cpus"), "info cpus")
words = h.cmd("x /4xw 0x%x" % symbol("gdb_words"))
check("0x11111111 0x22222222 0x33333333 0x44444444" in words, "x reads gdb_words")
check("0x11111111" in h.cmd("xp /1xw 0x%x" % symbol("gdb_words")), "xp reads gdb_words (paging off)")
check("0x2222" in h.cmd("x /2xh 0x%x+4" % symbol("gdb_words")), "x with an expression and halfwords")
check("unknown command: 'frobnicate'" in h.cmd("frobnicate 1 2"), "bad HMP command: an error")
check("invalid" in h.cmd("x /4q 0"), "bad x format: an error")
check("Error: loadvm needs a file name" in h.cmd("loadvm"), "loadvm without a file: an error")
check("cannot open snapshot" in h.cmd("loadvm %s/none" % tmp), "loadvm of a missing file: an error")
check("snapshots are files" in h.cmd("info snapshots"), "info snapshots: snapshots are files")
check("Error: unix:%s/nobody: cannot connect" % tmp in h.cmd("migrate unix:%s/nobody" % tmp),
      "migrate to nowhere: an error")
check("Error: unsupported migration URI" in h.cmd("migrate rdma:x"), "migrate to a bad URI: an error")
check("PG disabled" in h.cmd("info mem"), "info mem without paging")
jit = h.cmd("info jit")
check("bt_blocks" in jit or "blocks" in jit, "info jit prints the translation statistics")

q = Qmp(qsock)
check("QMP" in q.greeting and q.greeting["QMP"]["version"]["qemu"]["major"] == 7, "QMP greeting")
r = q.cmd("query-status")
check(r.get("error", {}).get("class") == "CommandNotFound", "QMP before qmp_capabilities: error")
check(q.cmd("qmp_capabilities", id=1) == {"return": {}, "id": 1}, "qmp_capabilities, id echoed")
check(q.cmd("query-status")["return"]["status"] == "running", "query-status: running")
check(q.send_raw(b'{"execute": "query-status",\n }\n').get("error", {}).get("class") == "GenericError",
      "bad JSON: an error reply")
check(q.send_raw(b'nonsense\n').get("error", {}).get("class") == "GenericError", "not JSON: an error reply")
check("error" in q.send_raw(b'{"arguments": {}}\n'), "no execute: an error reply")
check(q.cmd("no-such-command")["error"]["class"] == "CommandNotFound", "unknown QMP command")
check(q.cmd("query-status")["return"]["running"] is True, "the VM keeps running after errors")
check(q.cmd("stop") == {"return": {}}, "QMP stop")
check(q.event("STOP"), "STOP event")
check(q.cmd("query-status")["return"]["status"] == "paused", "query-status: paused")
check("paused" in h.cmd("info status"), "HMP info status: paused")
a = spins(h)
b = spins(h)
check(a == b, "stopped: gdb_spins does not move (%d, %d)" % (a, b))
hm = q.cmd("human-monitor-command", arguments={"command-line": "info registers"})
check("EIP=" in hm.get("return", ""), "human-monitor-command info registers")
check(q.cmd("cont") == {"return": {}}, "QMP cont")
check(q.event("RESUME"), "RESUME event")
deadline = time.time() + TIMEOUT
while spins(h) == b and time.time() < deadline:
    time.sleep(0.01)
check(spins(h) != b, "running again: gdb_spins moves")
check(q.cmd("query-migrate") == {"return": {}}, "query-migrate before any migration: {}")
check(q.cmd("migrate")["error"]["class"] == "GenericError", "QMP migrate without uri: an error")
check("cannot connect" in q.cmd("migrate", arguments={"uri": "unix:%s/nobody" % tmp})["error"]["desc"],
      "QMP migrate to nowhere: an error")
# A whole migration through QMP: the stream goes to a file; the source ends
# stopped (postmigrate) and cont runs it again, as in QEMU.
check(q.cmd("migrate", arguments={"uri": "exec:cat > %s/stream" % tmp}) == {"return": {}}, "QMP migrate")
deadline = time.time() + TIMEOUT
while time.time() < deadline:
    qm = q.cmd("query-migrate")["return"]
    if qm.get("status") in ("completed", "failed"):
        break
    time.sleep(0.02)
check(qm.get("status") == "completed" and "downtime" in qm and qm["ram"]["transferred"] > 0,
      "query-migrate: completed with downtime and bytes (%s)" % qm)
check(os.path.getsize("%s/stream" % tmp) == qm["ram"]["transferred"], "the stream file holds every byte sent")
check(q.event("STOP") and q.event("MIGRATION"), "STOP and MIGRATION events")
check("paused (postmigrate)" in h.cmd("info status"), "HMP info status: paused (postmigrate)")
check("Migration status: completed" in h.cmd("info migrate"), "HMP info migrate: completed")
q.events.clear()
h.cmd("cont")
check(q.event("RESUME"), "cont after a migration")
h.cmd("stop")
check(q.event("STOP"), "HMP stop sends the STOP event")
h.cmd("cont")
check(q.event("RESUME"), "HMP cont sends the RESUME event")
check(q.cmd("quit") == {"return": {}}, "QMP quit")
check(q.event("SHUTDOWN") and any(e.get("data", {}).get("reason") == "host-qmp-quit" for e in q.events),
      "SHUTDOWN event, host-qmp-quit")
out = vm.communicate(timeout=TIMEOUT)[0].decode()
check(vm.returncode == 0, "quit: exit status 0 (got %d)" % vm.returncode)

# 2. -S and a guest asleep in HLT: HMP cont, stop, quit
vm = start(["-S", "-append", "sleep", "-monitor", "unix:%s,server,nowait" % hsock])
h = Hmp(hsock)
check("paused" in h.cmd("info status"), "-S: paused")
h.cmd("cont")
deadline = time.time() + TIMEOUT
while "0x00000001" not in h.cmd("x /1xw 0x%x" % symbol("gdb_sleeping")) and time.time() < deadline:
    time.sleep(0.01)
check("HLT=1" in h.cmd("info registers"), "info registers in HLT: HLT=1")
h.cmd("stop")
check("paused" in h.cmd("info status"), "stop in HLT")
h.s.sendall(b"quit\n")
vm.communicate(timeout=TIMEOUT)
check(vm.returncode == 0, "HMP quit: exit status 0 (got %d)" % vm.returncode)

# 3. -serial mon:stdio: Ctrl-A c to the monitor, a command, Ctrl-A x
vm = start(["-S", "-append", "spin", "-serial", "mon:stdio"], stdin=subprocess.PIPE)
out = vm.communicate(b"\x01cinfo registers\nx /1xw 0x%x\n\x01x" % symbol("gdb_words"),
                     timeout=TIMEOUT)[0].decode(errors="replace")
check("EIP=" in out and "0x11111111" in out, "mon:stdio: Ctrl-A c, info registers, x")
check(vm.returncode == 0, "mon:stdio Ctrl-A x: exit status 0 (got %d)" % vm.returncode)

# 3b. mon:stdio: the guest's serial input passes the multiplexer, also after
# a visit to the monitor, and Ctrl-A Ctrl-A sends one Ctrl-A
vm = start(["-append", "echo", "-serial", "mon:stdio"], stdin=subprocess.PIPE)
out = vm.communicate(b"a\x01cinfo status\n\x01cb\x01\x01q", timeout=TIMEOUT)[0].decode(errors="replace")
check("echo got a" in out and "VM status: running" in out and "echo got b" in out
      and "echo got \x01" in out and "echo got q" in out, "mon:stdio: guest input around a monitor visit")
check(vm.returncode == 1, "echo kernel: status 1 (got %d)" % vm.returncode)

# 4. the guest ends the run: QMP sees SHUTDOWN, bt86 the guest's status
vm = start(["-qmp", "unix:%s,server,nowait" % qsock, "-S"])
q = Qmp(qsock)
q.cmd("qmp_capabilities")
q.cmd("cont")
check(q.event("SHUTDOWN"), "guest exit: SHUTDOWN event")
vm.communicate(timeout=TIMEOUT)
check(vm.returncode == 3, "the kernel's own status (gdb_target alone fails: 3), got %d" % vm.returncode)

# 5. -monitor stdio: commands on stdin, replies on stdout, quit
vm = start(["-S", "-append", "spin", "-monitor", "stdio"], stdin=subprocess.PIPE)
out = vm.communicate(b"info status\ninfo registers\nquit\n", timeout=TIMEOUT)[0].decode(errors="replace")
check("(qemu) " in out and "VM status: paused" in out and "EIP=" in out, "-monitor stdio")
check(vm.returncode == 0, "-monitor stdio quit: exit status 0 (got %d)" % vm.returncode)

# 6. QMP system_reset: bt86 ends the run on a reset (as -no-reboot), status 0
vm = start(["-append", "spin", "-qmp", "unix:%s,server,nowait" % qsock])
q = Qmp(qsock)
q.cmd("qmp_capabilities")
check(q.cmd("system_reset", id="r") == {"return": {}, "id": "r"}, "QMP system_reset")
check(q.event("SHUTDOWN") and q.events[-1].get("data", {}).get("reason") == "host-qmp-system-reset",
      "SHUTDOWN event, host-qmp-system-reset")
vm.communicate(timeout=TIMEOUT)
check(vm.returncode == 0, "system_reset: exit status 0 (got %d)" % vm.returncode)

print("monitor-test: " + ("PASS" if not fails else "%d FAILED" % len(fails)))
sys.exit(1 if fails else 0)

#!/usr/bin/env python3
"""migrate-test.py BT86 KERNEL SCENARIO — live migration (issue #14 item 6)
of the migrate_work kernel, a PIT-paced memory-writing workload that runs
until it reads 'q' on COM1 and then prints "done rounds=N sum=S"; S is a
pure function of N (expected() below), so the run must end with the right
sum wherever the migration cut it.

Scenarios:
  unix, tcp, exec   the source migrates after the guest printed
                    "progress 32" (a guest event, not host time) to a
                    destination started with -incoming; the source ends
                    stopped (postmigrate), the destination finishes the
                    workload with the right checksum. unix runs with the
                    guest's paging on, a 1 ms downtime target and at least
                    8 pre-copy rounds (x-min-rounds), tcp and exec with
                    paging off.
  dropped           the destination is this script, which reads 1 MiB of
                    the stream and hangs up: the migration fails with one
                    line, and the source runs the workload to the end with
                    the right checksum.
  cancel            the destination (this script) accepts and never
                    reads: the sender stalls; migrate_cancel ends the
                    migration ("cancelled") and the source runs on to the
                    right checksum.
  reject            a destination with another RAM size rejects the
                    stream: no acknowledgement, the migration fails, the
                    source runs on to the right checksum.

Timeouts are a safety net only."""
import os, re, socket, subprocess, sys, tempfile, time
from array import array

from miglib import TIMEOUT, Hmp, Vm as _Vm, check, summary, wait_listening

bt86, kernel, scenario = sys.argv[1], sys.argv[2], sys.argv[3]
NW = 1 << 20


def Vm(name, args, stdin=subprocess.DEVNULL):
    return _Vm(bt86, name, args, stdin)


def expected(rounds):
    """migrate_work.c's checksum after `rounds` rounds."""
    work = array("I", bytes(4 * NW))
    x, m = 12345, 0xFFFFFFFF
    for n in range(rounds):
        for _ in range(256):
            x = (x * 1664525 + 1013904223) & m
            i = (x >> 8) & (NW - 1)
            work[i] = (work[i] + (x ^ n)) & m
    s = 0
    for v in work:
        s = (((s << 5) | (s >> 27)) & m) ^ v
    return s


def finish_with_q(vm, what):
    """Type 'q' to the guest; its rounds and checksum must agree."""
    vm.send(b"q")
    mt = vm.wait_for(r"done rounds=(\d+) sum=([0-9a-f]{8})")
    check(mt is not None, what + ": the workload finished")
    status = vm.finish()
    check(status == 1, what + ": exit status 1 (PASS), got %s" % status)
    if mt:
        n, s = int(mt.group(1)), int(mt.group(2), 16)
        want = expected(n)
        check(s == want, "%s: checksum after %d rounds %08x (expected %08x)" % (what, n, s, want))
    return mt


def live(tmp, kind):
    paging = kind == "unix"
    args = ["-append", "paging"] if paging else []
    if kind == "unix":
        uri = "unix:" + os.path.join(tmp, "mig.sock")
    elif kind == "tcp":
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        uri = "tcp:127.0.0.1:%d" % s.getsockname()[1]
        s.close()
    else:
        uri = "exec:cat > " + os.path.join(tmp, "stream")
    mon = os.path.join(tmp, "mon.sock")
    dst = None
    if kind != "exec":
        dst = Vm("dst", ["-incoming", uri, kernel] + args, stdin=subprocess.PIPE)
        wait_listening(uri)
    src = Vm("src", ["-monitor", "unix:%s,server,nowait" % mon, kernel] + args)
    check(src.wait_for(r"^progress 32$") is not None, "source: the workload runs")
    hmp = Hmp(mon)
    if paging:
        # A 1 ms downtime target and at least 8 rounds: each re-protects
        # what the guest wrote during the one before.
        hmp.cmd("migrate_set_parameter downtime-limit 1")
        hmp.cmd("migrate_set_parameter x-min-rounds 8")
    out = hmp.cmd("migrate " + uri)
    check("Error" not in out, "migrate %s accepted (%s)" % (uri, out.strip()))
    info = hmp.wait_migration()
    print(info, flush=True)
    check("Migration status: completed" in info, "the migration completed")
    if paging:
        rounds = re.search(r"rounds: (\d+)", info)
        check(rounds is not None and int(rounds.group(1)) >= 8, "at least 8 pre-copy rounds")
    for field in ("total time", "downtime", "transferred ram", "dirty sync count"):
        check(re.search(field + r": \d+", info) is not None, "info migrate reports " + field)
    check("paused (postmigrate)" in hmp.cmd("info status"), "the source is stopped (postmigrate)")
    last = max([int(l.split()[1]) for l in src.lines if l.startswith("progress")] or [0])
    hmp.cmd("quit")
    check(src.finish() == 0, "the source quits")
    check(src.wait_for(r"migration completed: total \d+ ms, downtime \d+ ms, \d+ kbytes sent, \d+ rounds")
          is not None or any("migration completed" in l for l in src.lines), "source: the stderr report line")
    if kind == "exec":
        dst = Vm("dst", ["-incoming", "exec:cat " + os.path.join(tmp, "stream"), kernel] + args,
                 stdin=subprocess.PIPE)
    mt = dst.wait_for(r"^progress (\d+)$")
    check(mt is not None and int(mt.group(1)) > last,
          "destination: the workload goes on after round %d (%s)" % (last, mt and mt.group(0)))
    finish_with_q(dst, "destination")


def fake_destination(tmp, args):
    """A listening socket that plays the destination, and a running source."""
    path = os.path.join(tmp, "fake.sock")
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind(path)
    lsock.listen(1)
    mon = os.path.join(tmp, "mon.sock")
    src = Vm("src", ["-monitor", "unix:%s,server,nowait" % mon, kernel] + args, stdin=subprocess.PIPE)
    check(src.wait_for(r"^progress 32$") is not None, "source: the workload runs")
    return path, lsock, src, Hmp(mon)


def dropped(tmp):
    path, lsock, src, hmp = fake_destination(tmp, ["-append", "paging"])
    out = hmp.cmd("migrate unix:" + path)
    check("Error" not in out, "migrate to the fake destination accepted")
    conn, _ = lsock.accept()
    got = 0
    while got < (1 << 20):
        d = conn.recv(65536)
        if not d:
            break
        got += len(d)
    conn.close()            # the destination dies mid-transfer
    lsock.close()
    info = hmp.wait_migration()
    print(info, flush=True)
    check("Migration status: failed" in info, "the migration failed")
    check("running" in hmp.cmd("info status"), "the source still runs")
    n0 = src.wait_for(r"^progress (\d+)$")
    check(n0 is not None, "source: the workload goes on (%s)" % (n0 and n0.group(0)))
    finish_with_q(src, "source")


def cancel(tmp):
    path, lsock, src, hmp = fake_destination(tmp, [])
    hmp.cmd("migrate unix:" + path)
    conn, _ = lsock.accept()        # and never read: the socket buffers fill up
    check("Migration status: active" in hmp.cmd("info migrate"), "the migration stalls, active")
    hmp.cmd("migrate_cancel")
    info = hmp.cmd("info migrate")
    print(info, flush=True)
    check("Migration status: cancelled" in info, "migrate_cancel: cancelled")
    conn.close()
    lsock.close()
    check("running" in hmp.cmd("info status"), "the source still runs")
    check(src.wait_for(r"^progress (\d+)$") is not None, "source: the workload goes on")
    finish_with_q(src, "source")


def reject(tmp):
    uri = "unix:" + os.path.join(tmp, "mig.sock")
    dst = subprocess.Popen([bt86, "-m", "16", "-display", "none", "-incoming", uri, kernel],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wait_listening(uri)
    mon = os.path.join(tmp, "mon.sock")
    src = Vm("src", ["-monitor", "unix:%s,server,nowait" % mon, kernel], stdin=subprocess.PIPE)
    check(src.wait_for(r"^progress 32$") is not None, "source: the workload runs")
    hmp = Hmp(mon)
    hmp.cmd("migrate " + uri)
    info = hmp.wait_migration()
    print(info, flush=True)
    check("Migration status: failed" in info, "the migration failed")
    dout = dst.communicate(timeout=TIMEOUT)[0].decode(errors="replace")
    print("  [dst] " + dout.strip(), flush=True)
    check(dst.returncode == 3 and "-incoming" in dout, "the destination refused the stream (status 3)")
    check("running" in hmp.cmd("info status"), "the source still runs")
    finish_with_q(src, "source")


with tempfile.TemporaryDirectory(prefix="bt86-migrate-") as tmp:
    {"unix": lambda: live(tmp, "unix"), "tcp": lambda: live(tmp, "tcp"),
     "exec": lambda: live(tmp, "exec"), "dropped": lambda: dropped(tmp), "cancel": lambda: cancel(tmp),
     "reject": lambda: reject(tmp)}[scenario]()
sys.exit(summary())

#!/usr/bin/env python3
"""linux-migrate.py BT86 WORKDIR — Debian 12's i386 Linux (686) migrated
live over a Unix socket in the middle of a checksummed workload (linux-init:
tmpfs data written in steps); the destination finishes it and its sha256
must equal the host's computation of the same data. The migrate command is
given at a guest event (the line "MIG-STEP 3"); the destination alone gets
the 'q' that ends the workload. Uses tests/linux's package cache
(fetch.sh) and initramfs builder; exit 77: skipped (no packages)."""
import glob, hashlib, os, re, subprocess, sys, tempfile, time

from miglib import Hmp, Vm, check, summary, wait_listening

here = os.path.dirname(os.path.abspath(__file__))
bt86, work = sys.argv[1], os.path.abspath(sys.argv[2])

linux = os.path.join(here, "..", "linux")
cache = os.path.join(work, "cache")
os.makedirs(work, exist_ok=True)
r = subprocess.run(["flock", os.path.join(work, "fetch.lock"), "sh", os.path.join(linux, "fetch.sh"), cache])
if r.returncode != 0:
    sys.exit(r.returncode)
kernel = sorted(glob.glob(os.path.join(cache, "boot", "vmlinuz-*-686")))[0]
initrd = os.path.join(work, "migrate-initramfs.cpio")
subprocess.run([sys.executable, os.path.join(linux, "mkinitramfs.py"), initrd,
                os.path.join(cache, "bin", "busybox"), os.path.join(here, "linux-init")], check=True)

data = b"".join(b"".join(b"%d\n" % k for k in range(i * 20000, i * 20000 + 20000)) for i in range(16))
want = hashlib.sha256(data).hexdigest()
common = ["-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0 panic=-1 cryptomgr.notests",
          "-serial", "stdio"]


def LinuxVm(name, args, stdin=subprocess.DEVNULL):
    return Vm(bt86, name, args, stdin, mem="128", show=r"MIG|bt86")


with tempfile.TemporaryDirectory(prefix="bt86-lmig-") as tmp:
    uri = "unix:" + os.path.join(tmp, "mig.sock")
    mon = os.path.join(tmp, "mon.sock")
    dst = LinuxVm("dst", common + ["-incoming", uri], stdin=subprocess.PIPE)
    wait_listening(uri)
    src = LinuxVm("src", common + ["-monitor", "unix:%s,server,nowait" % mon])
    check(src.wait_for(r"^MIG-STEP 3$") is not None, "source: Linux runs the workload")
    hmp = Hmp(mon)
    out = hmp.cmd("migrate " + uri)
    check("Error" not in out, "migrate accepted")
    info = hmp.wait_migration()
    print(info, flush=True)
    check("Migration status: completed" in info, "the migration completed")
    hmp.cmd("quit")
    src.finish()
    mt = dst.wait_for(r"^MIG-(STEP \d+|WAIT)$")
    check(mt is not None, "destination: Linux goes on (%s)" % (mt and mt.group(0)))
    check(dst.wait_for(r"^MIG-WAIT$") is not None or any(l == "MIG-WAIT" for l in dst.lines),
          "destination: the workload's steps finished")
    dst.send(b"q")
    mt = dst.wait_for(r"MIG-RESULT ([0-9a-f]{64})$")     # after the console's echo of q
    check(mt is not None and mt.group(1) == want,
          "destination: sha256 %s (expected %s)" % (mt and mt.group(1), want))
    status = dst.finish()
    check(status == 11, "destination: exit status 11, got %s" % status)
sys.exit(summary())

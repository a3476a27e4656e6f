#!/usr/bin/env python3
"""snapshot-test.py BT86 KERNEL — savevm/loadvm/-loadvm round trips with
the snapshot kernel (snapshot.c), which prints "progress R SUM" per round
and "final SUM" at the end, a sum that never depends on timing.

1. An uninterrupted run gives the expected final line.
2. For a few pseudo-random points (a fixed seed): a run with an HMP monitor
   saves the machine when the guest has printed the chosen number of
   progress lines (the guest is wherever it is by then), runs on a few
   more rounds, restores the snapshot with the monitor's loadvm in the
   same process (the guest rewinds), and must end with the expected line;
   then a fresh bt86 started with -loadvm FILE (no kernel) must end with
   it too.
3. A corrupt snapshot is refused: -loadvm exits 3 with one line, and the
   monitor's loadvm says Error while the guest runs on untouched.

Every wait is for guest output or a monitor prompt (guest events, never
host time); the timeouts are a safety net."""
import os, random, shutil, subprocess, sys, tempfile

from hmp_client import Hmp

bt86, kernel = sys.argv[1], sys.argv[2]
TIMEOUT = 120
fails = []
tmp = tempfile.mkdtemp(prefix="snapshot-test.")
disk = os.path.join(tmp, "disk.img")
with open(disk, "wb") as f:
    f.write(bytes(range(256)) * 4096)      # 1 MiB the kernel reads before it writes
BASE = [bt86, "-m", "64", "-display", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
        "-snapshot", "-drive", "file=%s,index=0,format=raw" % disk]


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        fails.append(what)


def finish():
    shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (len(checks_done) - len(fails), len(fails)))
    sys.exit(1 if fails else 0)


checks_done = []
_check = check


def check(cond, what):      # noqa: F811 (counts every check)
    checks_done.append(what)
    _check(cond, what)


def final_of(text):
    for line in text.splitlines():
        if line.startswith("final "):
            return line
    return None


# 1. the expected result
r = subprocess.run(BASE + [kernel], capture_output=True, text=True, timeout=TIMEOUT)
expect = final_of(r.stdout)
check(r.returncode == 1 and expect is not None, "uninterrupted run: %s" % expect)
if not expect:
    finish()

rng = random.Random(14005)
for trial in range(3):
    save_at = rng.randrange(5, 260)
    load_at = save_at + rng.randrange(3, 30)
    snap = os.path.join(tmp, "snap%d.bt86" % trial)
    sock = os.path.join(tmp, "hmp%d" % trial)
    p = subprocess.Popen(BASE + ["-monitor", "unix:%s,server,nowait" % sock, kernel],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    h = Hmp(sock, TIMEOUT)
    saved = loaded = False
    out = []
    for line in p.stdout:
        out.append(line)
        if line.startswith("progress "):
            n = int(line.split()[1])
            if not saved and n >= save_at:
                reply = h.cmd("savevm " + snap)
                saved = True
                check(reply.strip() == "" and os.path.getsize(snap) > 0,
                      "trial %d: savevm after progress line %d" % (trial, n))
            elif saved and not loaded and n >= load_at:
                reply = h.cmd("loadvm " + snap)
                loaded = True
                check(reply.strip() == "", "trial %d: monitor loadvm at progress line %d" % (trial, n))
    p.wait(TIMEOUT)
    text = "".join(out)
    got = final_of(text)
    rewound = sum(1 for l in out if l.startswith("progress ")) > 300
    check(loaded and rewound, "trial %d: the guest rewound to the saved point" % trial)
    check(got == expect, "trial %d: monitor loadvm in the same process ends with %s (got %s)"
          % (trial, expect, got))
    h.s.close()

    r = subprocess.run(BASE + ["-loadvm", snap], capture_output=True, text=True, timeout=TIMEOUT)
    got = final_of(r.stdout)
    first = next((l for l in r.stdout.splitlines() if l.startswith("progress ")), "")
    check(r.returncode == 1 and got == expect,
          "trial %d: fresh bt86 -loadvm (resumed at '%s') ends with %s (got %s, status %d)"
          % (trial, first, expect, got, r.returncode))

# 3. corrupt snapshots: one line, exit 3; the monitor refuses and the guest runs on
snap = os.path.join(tmp, "snap0.bt86")
data = open(snap, "rb").read()
bad = os.path.join(tmp, "bad.bt86")
with open(bad, "wb") as f:
    f.write(data[:len(data) // 2])
r = subprocess.run(BASE + ["-loadvm", bad], capture_output=True, text=True, timeout=TIMEOUT)
check(r.returncode == 3 and "truncated" in r.stderr and r.stderr.count("\n") == 1,
      "-loadvm of a truncated file: exit 3, one line (%s)" % r.stderr.strip())
r = subprocess.run([bt86, "-m", "128", "-display", "none", "-snapshot", "-drive",
                    "file=%s,index=0,format=raw" % disk, "-loadvm", snap],
                   capture_output=True, text=True, timeout=TIMEOUT)
check(r.returncode == 3 and "RAM" in r.stderr, "-loadvm with another -m: exit 3 (%s)" % r.stderr.strip())

sock = os.path.join(tmp, "hmpbad")
p = subprocess.Popen(BASE + ["-monitor", "unix:%s,server,nowait" % sock, kernel],
                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
h = Hmp(sock, TIMEOUT)
out = []
asked = False
for line in p.stdout:
    out.append(line)
    if line.startswith("progress ") and not asked and int(line.split()[1]) >= 20:
        asked = True
        reply = h.cmd("loadvm " + bad)
        check(reply.startswith("Error:") and "truncated" in reply,
              "monitor loadvm of a truncated file: an error (%s)" % reply.strip())
p.wait(TIMEOUT)
check(final_of("".join(out)) == expect, "after the refused loadvm the guest ends with %s" % expect)
finish()

#!/usr/bin/env python3
"""savevm-at.py MARKER FILE -- BT86 ARGS... — run a VM with an HMP monitor,
save it with "savevm FILE" as soon as a console line contains MARKER (a
guest event: wherever the guest is by then), and quit. Exit 0 once saved;
1 if the VM ended first or savevm failed."""
import os, shutil, subprocess, sys, tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kernels"))
from hmp_client import Hmp  # noqa: E402

marker, path = sys.argv[1].encode(), sys.argv[2]
argv = sys.argv[4:] if sys.argv[3] == "--" else sys.argv[3:]
sock = os.path.join(tempfile.mkdtemp(prefix="savevm-at."), "hmp")
p = subprocess.Popen(argv + ["-monitor", "unix:%s,server,nowait" % sock], stdin=subprocess.DEVNULL,
                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
h = Hmp(sock, 600)
status = 1
tail = []
for line in p.stdout:
    tail = (tail + [line])[-20:]
    if marker in line:
        reply = h.cmd("savevm " + path).strip()
        print("savevm-at: saved at %r%s" % (line.strip().decode(errors="replace"),
                                           ": " + reply if reply else ""))
        status = 1 if reply else 0
        h.cmd("quit")
        break
p.stdout.close()
p.wait()
shutil.rmtree(os.path.dirname(sock), ignore_errors=True)
if status:
    sys.stdout.write(b"".join(tail).decode(errors="replace"))
    print("savevm-at: no snapshot (marker not seen or savevm failed; the last lines above)")
sys.exit(status)

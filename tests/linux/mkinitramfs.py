#!/usr/bin/env python3
"""mkinitramfs.py OUT BUSYBOX INIT [FILE...]: write an uncompressed initramfs.

The archive is cpio "newc" (the format the kernel unpacks, see the kernel's
Documentation/driver-api/early-userspace/buffer-format.rst): /init (the INIT
script), /bin/busybox, each extra FILE under /, the usual empty directories
and a /dev/console node, so init has a console before devtmpfs is mounted.
Written here because the cpio tool is not installed."""
import os
import sys


def entry(out, ino, name, mode, data=b"", rdev=(0, 0)):
    name_b = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, 2 if mode & 0o040000 else 1, 0, len(data), 0, 0,
              rdev[0], rdev[1], len(name_b), 0]
    out.write(b"070701" + b"".join(b"%08X" % f for f in fields))
    out.write(name_b)
    out.write(b"\0" * (-(110 + len(name_b)) % 4))
    out.write(data)
    out.write(b"\0" * (-len(data) % 4))


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: mkinitramfs.py OUT BUSYBOX INIT [FILE...]")
    out_path, busybox, init = sys.argv[1:4]
    files = [("init", init), ("bin/busybox", busybox)]
    files += [(os.path.basename(f), f) for f in sys.argv[4:]]
    tmp = out_path + ".tmp"
    with open(tmp, "wb") as out:
        ino = 1
        for d in ["bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "tmp"]:
            entry(out, ino, d, 0o040755)
            ino += 1
        entry(out, ino, "dev/console", 0o020600, rdev=(5, 1))
        ino += 1
        for name, path in files:
            with open(path, "rb") as f:
                entry(out, ino, name, 0o100755, f.read())
            ino += 1
        entry(out, ino, "TRAILER!!!", 0)
        out.write(b"\0" * (-out.tell() % 512))
    os.replace(tmp, out_path)


main()

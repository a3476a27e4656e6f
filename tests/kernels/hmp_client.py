"""hmp_client — a client for bt86's (and QEMU's) human monitor on a unix
socket, for the test and bench scripts: connect, then cmd(line) returns the
reply text up to the next "(qemu) " prompt."""
import socket
import time


def connect(addr, timeout=60, family=socket.AF_UNIX):
    """The socket at addr (a unix path, or (host, port) with AF_INET), once
    the VM has opened it (waits up to timeout)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        s = socket.socket(family, socket.SOCK_STREAM)
        try:
            s.connect(addr)
            s.settimeout(timeout)
            return s
        except OSError:
            s.close()
            time.sleep(0.01)
    raise SystemExit("no socket %r" % (addr,))


def check(fails, cond, what):
    """Print one test line; a failing one is added to fails."""
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        fails.append(what)


class Hmp:
    def __init__(self, path, timeout=60):
        self.s = connect(path, timeout)
        self.buf = b""
        self.banner = self.until_prompt()

    def until_prompt(self):
        while b"(qemu) " not in self.buf:
            d = self.s.recv(65536)
            if not d:
                break
            self.buf += d
        text, _, self.buf = self.buf.partition(b"(qemu) ")
        return text.decode(errors="replace")

    def cmd(self, line):
        self.s.sendall(line.encode() + b"\n")
        return self.until_prompt()

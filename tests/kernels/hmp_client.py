"""hmp_client — a client for bt86's (and QEMU's) human monitor on a unix
socket, for the test and bench scripts: connect, then cmd(line) returns the
reply text up to the next "(qemu) " prompt."""
import socket
import time


def connect(path, timeout=60):
    """The socket at path, once the VM has opened it (waits up to timeout)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            s.settimeout(timeout)
            return s
        except OSError:
            s.close()
            time.sleep(0.01)
    raise SystemExit("no monitor socket " + path)


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

"""hmp_client — QEMU's human monitor over a Unix socket, as the monitor,
migration (and any other) test scripts drive bt86's or QEMU's: connect()
retries until the VM listens; Hmp.cmd() sends a line and returns the text
up to the next "(qemu) " prompt. TIMEOUT is a safety net only."""
import socket, time

TIMEOUT = 60


def connect(path, timeout=TIMEOUT):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            s.settimeout(timeout)
            return s
        except OSError:
            s.close()
            time.sleep(0.05)
    raise SystemExit("no socket " + path)


class Hmp:
    def __init__(self, path, timeout=TIMEOUT):
        self.s = connect(path, timeout)
        self.buf = b""
        self.banner = self.until_prompt()

    def until_prompt(self):
        while b"(qemu) " not in self.buf:
            d = self.s.recv(4096)
            if not d:
                break
            self.buf += d
        text, _, self.buf = self.buf.partition(b"(qemu) ")
        return text.decode()

    def cmd(self, line):
        self.s.sendall(line.encode() + b"\n")
        return self.until_prompt()

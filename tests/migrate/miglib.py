"""miglib — what the migration tests share: bt86 processes whose output a
thread collects (Vm), the HMP over its socket (Hmp), whether an -incoming
socket listens yet (listening), and check() with its list of failures.
Timeouts are a safety net only; every wait is for guest output or an
answer."""
import os, queue, re, socket, subprocess, sys, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kernels"))
import hmp_client  # noqa: E402

TIMEOUT = 120
fails = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        fails.append(what)


class Vm:
    """A bt86 process whose output lines are collected by a thread."""

    def __init__(self, bt86, name, args, stdin=subprocess.DEVNULL, mem="32", show=None):
        self.name, self.lines, self.q, self.show = name, [], queue.Queue(), show
        self.p = subprocess.Popen([bt86, "-m", mem, "-display", "none",
                                   "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"] + args,
                                  stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.p.stdout:
            line = raw.decode(errors="replace").rstrip("\r\n")
            if self.show is None or re.search(self.show, line):
                print("  [%s] %s" % (self.name, line), flush=True)
            self.q.put(line)
        self.q.put(None)

    def wait_for(self, pattern):
        deadline = time.time() + TIMEOUT
        while time.time() < deadline:
            try:
                line = self.q.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                return None
            self.lines.append(line)
            mt = re.search(pattern, line)
            if mt:
                return mt
        return None

    def send(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def finish(self):
        try:
            return self.p.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return None


def listening(uri):
    """Is the -incoming socket listening yet (/proc/net, no connection)?"""
    if uri.startswith("unix:"):
        with open("/proc/net/unix") as f:
            return any(l.split()[-1] == uri[5:] and l.split()[3] == "00010000"
                       for l in f.readlines()[1:] if len(l.split()) >= 8)
    port = "%04X" % int(uri.rsplit(":", 1)[1])
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                if any(l.split()[1].endswith(":" + port) and l.split()[3] == "0A"
                       for l in f.readlines()[1:]):
                    return True
        except OSError:
            pass
    return False


def wait_listening(uri):
    deadline = time.time() + TIMEOUT
    while not listening(uri) and time.time() < deadline:
        time.sleep(0.02)


class Hmp(hmp_client.Hmp):
    """The monitor (tests/kernels/hmp_client.py), waiting for migrations."""

    def __init__(self, path):
        super().__init__(path, TIMEOUT)

    def wait_migration(self):
        deadline = time.time() + TIMEOUT
        while time.time() < deadline:
            info = self.cmd("info migrate")
            if re.search(r"Migration status: (completed|failed)", info):
                return info
            time.sleep(0.05)
        return ""



def summary():
    print("%d passed, %d failed" % (0 if fails else 1, 1 if fails else 0))
    return 1 if fails else 0

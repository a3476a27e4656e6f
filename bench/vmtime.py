"""vmtime — run one VM (or native) process and time it from the host.

Shared by bench/linux and bench/xv6. A Session starts the process with its
stdin and stdout on pipes, reads what the guest prints on its serial console
and, each time a marker the caller waits for appears, samples

  wall  seconds since the process started (time.perf_counter), and
  cpu   user+system CPU seconds of the process so far, all its threads and
        its waited-for children: /proc/PID/stat utime+stime+cutime+cstime
        (clock ticks, usually 10 ms; see proc(5)).

At exit the final CPU time comes from wait4()'s rusage instead (exact).
CPU time is the figure to compare on a loaded machine: wall time there
includes whatever the other processes took from us.
"""
import os
import re
import select
import statistics
import subprocess
import time

TICK = os.sysconf("SC_CLK_TCK")


class Timeout(Exception):
    pass


class Exited(Exception):
    pass


def proc_cpu(pid):
    """User+system CPU seconds of PID and its reaped children, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is state (field 3); utime..cstime are fields 14..17
    return sum(int(x) for x in fields[11:15]) / TICK


class Session:
    def __init__(self, argv, env=None, cwd=None, log=None):
        self.argv = argv
        self.log = log
        self.t0 = time.perf_counter()
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, env=env, cwd=cwd)
        self.buf = ""
        self.pos = 0          # where the next wait_for starts looking
        self.status = None
        self.rusage = None

    def _read(self, deadline):
        left = deadline - time.perf_counter()
        if left <= 0:
            raise Timeout()
        r, _, _ = select.select([self.p.stdout], [], [], min(left, 1.0))
        if not r:
            return
        data = os.read(self.p.stdout.fileno(), 65536)
        if not data:
            self._reap()
            raise Exited()
        text = data.decode("utf-8", "replace").replace("\r", "")
        if self.log:
            self.log.write(text)
        self.buf += text

    def wait_for(self, regex, timeout):
        """Wait until REGEX matches the output after the last match; return
        (match, wall, cpu) sampled as soon as it is seen."""
        rx = re.compile(regex, re.M)
        deadline = time.perf_counter() + timeout
        while True:
            m = rx.search(self.buf, self.pos)
            if m:
                wall = time.perf_counter() - self.t0
                try:
                    cpu = proc_cpu(self.p.pid)
                except (OSError, IndexError):
                    cpu = None          # it exited in between: the caller uses finish()
                self.pos = m.end()
                return m, wall, cpu
            self._read(deadline)

    def send(self, text):
        self.p.stdin.write(text.encode())
        self.p.stdin.flush()

    def _reap(self):
        if self.status is None:
            _, st, ru = os.wait4(self.p.pid, 0)
            self.wall = time.perf_counter() - self.t0
            self.status = os.waitstatus_to_exitcode(st)
            self.rusage = ru
            self.p.returncode = self.status

    def finish(self, timeout):
        """Read to the end; return (status, wall, cpu) from wait4."""
        deadline = time.perf_counter() + timeout
        try:
            while self.status is None:
                self._read(deadline)
        except Exited:
            pass
        ru = self.rusage
        return self.status, self.wall, ru.ru_utime + ru.ru_stime

    def kill(self):
        if self.status is None:
            try:
                self.p.kill()
            except OSError:
                pass
            self._reap()


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def ratio(a, b):
    return a / b if a is not None and b is not None and a > 0 and b > 0 else None


def fmt(x, unit="", nd=2):
    return "-" if x is None else f"{x:.{nd}f}{unit}"

#!/usr/bin/env python3
"""chardev-test.py BT86 KERNEL — QEMU's character back-ends in bt86: COM1
(-serial) and the monitors (-monitor, -qmp) on TCP and Unix sockets, as a
server (waiting for its client or not) and as a client, on a pty, and
through -chardev ...,id=ID with chardev:ID; bad specs end with one line
and status 2. KERNEL is gdb_target ("echo": prints "echo ready", then
"echo got C" for every byte COM1 receives, and exits with status 1 after
a 'q').

Every wait is for an answer or guest output; the timeouts are a safety net."""
import atexit, json, os, re, select, shutil, socket, subprocess, sys, tempfile, termios, time, tty

bt86, kernel = sys.argv[1], sys.argv[2]
TIMEOUT = 60
fails = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        fails.append(what)


def start(args, append="echo"):
    return subprocess.Popen([bt86, "-display", "none", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                             "-append", append] + args + [kernel],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def connect(family, addr):
    deadline = time.time() + TIMEOUT
    while time.time() < deadline:
        s = socket.socket(family, socket.SOCK_STREAM)
        try:
            s.connect(addr)
            s.settimeout(TIMEOUT)
            return s
        except OSError:
            s.close()
            time.sleep(0.05)
    raise SystemExit("chardev-test: cannot connect to %r" % (addr,))


class Stream:
    """Reads from a socket or a pty fd until a pattern shows up."""

    def __init__(self, sock=None, fd=None):
        self.sock, self.fd, self.buf = sock, fd, b""

    def recv(self):
        if self.sock:
            return self.sock.recv(4096)
        r, _, _ = select.select([self.fd], [], [], TIMEOUT)
        return os.read(self.fd, 4096) if r else b""

    def send(self, data):
        if self.sock:
            self.sock.sendall(data)
        else:
            os.write(self.fd, data)

    def until(self, pat):
        while pat not in self.buf:
            d = self.recv()
            if not d:
                break
            self.buf += d
        found = pat in self.buf
        self.buf = self.buf.partition(pat)[2] if found else b""
        return found


def finish(vm, what, status=1):
    try:
        vm.wait(TIMEOUT)
    except subprocess.TimeoutExpired:
        vm.kill()
        vm.wait()
    err = vm.stderr.read().decode()
    check(vm.returncode == status, "%s: exit status %d (got %d) %s" % (what, status, vm.returncode, err.strip()))


def echo_session(st, what, ready=True, last=True):
    if ready:
        check(st.until(b"echo ready\n"), what + ": guest output arrives")
    st.send(b"a")
    check(st.until(b"echo got a\n"), what + ": guest input arrives")
    st.send(b"q")
    # (a pty's last bytes vanish when the VM exits and closes its side)
    check(not last or st.until(b"echo got q\n"), what + ": and the last byte")


tmp = tempfile.mkdtemp(prefix="chardev-test.")
atexit.register(shutil.rmtree, tmp, True)

# 1. -serial tcp:HOST:PORT,server: the run waits for the client, so the
#    guest's first line reaches it.
port = free_port()
vm = start(["-serial", "tcp:127.0.0.1:%d,server" % port])
line = vm.stderr.readline().decode()
check(line.startswith("QEMU waiting for connection on: disconnected:tcp:127.0.0.1:%d,server=on" % port),
      "tcp server: QEMU's waiting line (%r)" % line)
s = connect(socket.AF_INET, ("127.0.0.1", port))
echo_session(Stream(sock=s), "tcp server")
finish(vm, "tcp server")
s.close()

# 2. -serial unix:PATH,server,nowait: the guest runs without a client; one
#    connects, hangs up, and the next is served.
path = os.path.join(tmp, "com1")
vm = start(["-serial", "unix:%s,server,nowait" % path])
s = connect(socket.AF_UNIX, path)
st = Stream(sock=s)
st.send(b"x")
check(st.until(b"echo got x\n"), "unix server nowait: first client")
s.close()
# a client that leaves before the guest answers: the guest's output to the
# closed connection must not end bt86 (SIGPIPE)
s = connect(socket.AF_UNIX, path)
s.sendall(b"z")
s.close()
time.sleep(0.5)
check(vm.poll() is None, "unix server nowait: a client that left before the answer")
s = connect(socket.AF_UNIX, path)
st = Stream(sock=s)
st.send(b"y")
check(st.until(b"echo got y\n"), "unix server nowait: a second client after a hang-up")
st.send(b"q")
check(st.until(b"echo got q\n"), "unix server nowait: q")
finish(vm, "unix server nowait")
s.close()

# 3. -chardev socket,...,server=on,wait=off with -serial chardev:ID
port = free_port()
vm = start(["-chardev", "socket,id=com,host=127.0.0.1,port=%d,server=on,wait=off" % port,
            "-serial", "chardev:com"])
s = connect(socket.AF_INET, ("127.0.0.1", port))
echo_session(Stream(sock=s), "-chardev socket + chardev:ID", ready=False)
finish(vm, "-chardev socket")
s.close()

# 4. -serial tcp:HOST:PORT (client): bt86 connects to us
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(1)
vm = start(["-serial", "tcp:127.0.0.1:%d" % ls.getsockname()[1]])
ls.settimeout(TIMEOUT)
s, _ = ls.accept()
s.settimeout(TIMEOUT)
echo_session(Stream(sock=s), "tcp client")
finish(vm, "tcp client")
s.close()
ls.close()

def open_pty(vm, label, what):
    """The pty QEMU's message names, opened raw; None (and the VM ended) if
    the message is not there."""
    line = vm.stderr.readline().decode()
    m = re.match(r"char device redirected to (/dev/pts/\d+) \(label %s\)" % label, line)
    check(m is not None, "%s: QEMU's message (%r)" % (what, line))
    if not m:
        vm.kill()
        vm.wait()
        return None
    fd = os.open(m.group(1), os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd, termios.TCSANOW)      # (TCSAFLUSH would drop what is waiting)
    return fd


# 5. -serial pty: QEMU's message names the pty; what the guest wrote
#    before anyone opened it is still there.
vm = start(["-serial", "pty"])
fd = open_pty(vm, "serial0", "pty")
if fd is not None:
    echo_session(Stream(fd=fd), "pty", last=False)
    finish(vm, "pty")
    os.close(fd)

# 6. HMP on tcp (server, nowait), QMP through -chardev socket on a Unix path
port = free_port()
qpath = os.path.join(tmp, "qmp")
vm = start(["-monitor", "tcp:127.0.0.1:%d,server,nowait" % port,
            "-chardev", "socket,id=q,path=%s,server=on,wait=off" % qpath, "-qmp", "chardev:q"],
           append="spin")
h = Stream(sock=connect(socket.AF_INET, ("127.0.0.1", port)))
check(h.until(b"(qemu) "), "HMP on tcp: banner and prompt")
h.send(b"info status\n")
check(h.until(b"VM status: running"), "HMP on tcp: info status")
q = connect(socket.AF_UNIX, qpath)
qf = q.makefile("rb")
greeting = json.loads(qf.readline())
check("QMP" in greeting, "QMP on -chardev socket: greeting")
q.sendall(b'{"execute": "qmp_capabilities"}\n')
check(json.loads(qf.readline()) == {"return": {}}, "QMP: qmp_capabilities")
q.sendall(b'{"execute": "quit"}\n')
finish(vm, "monitors on sockets", status=0)
q.close()

# 7. HMP on a pty
vm = start(["-monitor", "pty"], append="spin")
fd = open_pty(vm, "compat_monitor0", "monitor pty")
if fd is not None:
    st = Stream(fd=fd)
    check(st.until(b"(qemu) "), "HMP on a pty: banner and prompt")
    st.send(b"info status\n")
    check(st.until(b"VM status: running"), "HMP on a pty: info status")
    st.send(b"quit\n")
    finish(vm, "HMP on a pty", status=0)
    os.close(fd)

# 8. bad specs: one line, status 2
for args, msg in [(["-serial", "tcp::99999,server"], "port of 1-65535"),
                  (["-serial", "udp::4444"], "supported are null, stdio, pty"),
                  (["-chardev", "socket,id=x", "-serial", "chardev:x"], "needs port=PORT or path=PATH"),
                  (["-serial", "unix:%s/no/such/dir/s,server,nowait" % tmp], "cannot listen"),
                  (["-monitor", "tcp:127.0.0.1:1"], "cannot connect")]:
    r = subprocess.run([bt86] + args + [kernel], capture_output=True, text=True, timeout=TIMEOUT)
    lines = r.stderr.strip().splitlines()
    check(r.returncode == 2 and len(lines) == 1 and msg in lines[0],
          "bad spec %s: one line with %r, status 2 (got %d: %r)" % (" ".join(args), msg, r.returncode, r.stderr))

if fails:
    print("%d FAILED" % len(fails))
    sys.exit(1)
print("PASS chardev")

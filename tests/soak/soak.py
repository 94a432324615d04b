#!/usr/bin/env python3
"""Soak run for `streamgate --headless`: many short connections in waves while others stay open,
with a route edit every second, then checks that nothing leaked and nothing was lost.

  soak.py --binary build/release/app/streamgate [--connections 100000] [--hold 10000]
          [--wave 1000] [--payload 2048]

Every connection sends random bytes and must get exactly those bytes back through the proxy.
Each second the config file is rewritten with another route's allow-list edited; the held
connections must survive every edit. Afterwards:
  - open descriptors of the streamgate process are back to their baseline (/proc/PID/fd),
  - its RSS is within 10% of the level measured after the warm-up wave,
  - every byte came back intact,
  - the access log has one line per connection of the soak route, with the client's byte counts.
Exit status 0 when every check passes, 1 otherwise; the figures are printed either way, with
RSS after every twentieth of the waves, so that memory levelling off can be told from growth.
Stops only what it started, by PID. Raises RLIMIT_NOFILE for itself and streamgate as needed.
"""
import argparse
import errno
import json
import os
import random
import re
import resource
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    # Outside the ephemeral range, so the client's own connections can never take it.
    rng = random.Random()
    for _ in range(1000):
        port = rng.randint(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise SystemExit("soak: no free port")


def echo_server(listener):
    """Child process: echo every byte back until the peer closes (epoll, non-blocking)."""
    sel = selectors.EpollSelector()
    listener.setblocking(False)
    sel.register(listener, selectors.EVENT_READ, None)
    pending = {}
    while True:
        for key, mask in sel.select():
            if key.data is None:
                while True:
                    try:
                        conn, _ = listener.accept()
                    except BlockingIOError:
                        break
                    except OSError as e:
                        if e.errno in (errno.EMFILE, errno.ENFILE):
                            break
                        raise
                    conn.setblocking(False)
                    pending[conn] = b""
                    sel.register(conn, selectors.EVENT_READ, "c")
                continue
            conn = key.fileobj
            if mask & selectors.EVENT_READ and not pending[conn]:
                # (No in-band marker for "nothing yet": any byte value is a valid payload.)
                try:
                    data = conn.recv(65536)
                except BlockingIOError:
                    continue
                except ConnectionResetError:
                    data = b""
                if not data:
                    sel.unregister(conn)
                    del pending[conn]
                    conn.close()
                    continue
                pending[conn] = data
            if pending.get(conn):
                try:
                    n = conn.send(pending[conn])
                except BlockingIOError:
                    n = 0
                except (BrokenPipeError, ConnectionResetError):
                    sel.unregister(conn)
                    del pending[conn]
                    conn.close()
                    continue
                pending[conn] = pending[conn][n:]
                sel.modify(conn, selectors.EVENT_WRITE if pending[conn] else selectors.EVENT_READ, "c")


class Client:
    """One connection: connect, send payload, read it back, then close or stay open."""
    __slots__ = ("sock", "payload", "sent", "got", "hold", "done")

    def __init__(self, payload, hold):
        self.sock = None
        self.payload = payload
        self.sent = 0
        self.got = bytearray()
        self.hold = hold
        self.done = False


class Load:
    def __init__(self, port, payload_max, rng):
        self.port = port
        self.payload_max = payload_max
        self.rng = rng
        self.sel = selectors.EpollSelector()
        self.bytes_sent = 0
        self.bytes_received = 0
        self.completed = 0     # connections closed by us after a correct echo
        self.errors = []

    def start(self, client):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex(("127.0.0.1", self.port))
        if err not in (0, errno.EINPROGRESS):
            s.close()
            self.errors.append("connect: " + os.strerror(err))
            client.done = True
            return
        client.sock = s
        self.sel.register(s, selectors.EVENT_WRITE, client)

    def new_payload(self):
        return self.rng.randbytes(self.rng.randint(1, self.payload_max))

    def step(self, timeout):
        """Drive every registered connection; returns the clients that finished."""
        finished = []
        for key, mask in self.sel.select(timeout):
            c = key.data
            s = c.sock
            if mask & selectors.EVENT_WRITE:
                try:
                    n = s.send(c.payload[c.sent:])
                except BlockingIOError:
                    continue
                except OSError as e:
                    self.fail(c, "send: %s" % e)
                    finished.append(c)
                    continue
                c.sent += n
                self.bytes_sent += n
                if c.sent == len(c.payload):
                    self.sel.modify(s, selectors.EVENT_READ, c)
                continue
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError as e:
                self.fail(c, "recv: %s" % e)
                finished.append(c)
                continue
            if not data:
                self.fail(c, "closed by the proxy after %d of %d bytes" % (len(c.got), len(c.payload)))
                finished.append(c)
                continue
            c.got += data
            self.bytes_received += len(data)
            if len(c.got) >= len(c.payload):
                if bytes(c.got) != c.payload:
                    self.fail(c, "echo differs")
                    finished.append(c)
                    continue
                self.sel.unregister(s)
                c.done = True
                if not c.hold:
                    s.close()
                    c.sock = None
                    self.completed += 1
                finished.append(c)
        return finished

    def fail(self, c, why):
        self.errors.append(why)
        try:
            self.sel.unregister(c.sock)
        except (KeyError, ValueError):
            pass
        c.sock.close()
        c.sock = None
        c.done = True

    def run(self, count, concurrency, hold=False, on_tick=None, deadline=None):
        """Open `count` connections, at most `concurrency` at a time, until all finished."""
        started = 0
        in_flight = 0
        done = []
        while started < count or in_flight:
            while started < count and in_flight < concurrency:
                c = Client(self.new_payload(), hold)
                self.start(c)
                started += 1
                if c.done:
                    done.append(c)
                else:
                    in_flight += 1
            finished = self.step(0.2)
            in_flight -= len(finished)
            done.extend(finished)
            if on_tick:
                on_tick()
            if deadline and time.monotonic() > deadline:
                self.errors.append("timed out with %d connections in flight" % in_flight)
                break
        return done

    def echo_again(self, clients, on_tick=None):
        """A held connection must still echo after all the route edits; then it is closed."""
        for c in clients:
            c.payload = self.new_payload()
            c.sent = 0
            c.got = bytearray()
            c.hold = False
            c.done = False
            self.sel.register(c.sock, selectors.EVENT_WRITE, c)
        left = len(clients)
        while left:
            finished = self.step(0.2)
            left -= len(finished)
            if on_tick:
                on_tick()


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def fd_targets(pid):
    out = {}
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            out[int(fd)] = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            pass
    return out


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def write_config(path, proxy_port, echo_port, edit):
    # The first route never matches the soak clients (they come from 127.0.0.1); its allow-list
    # is what changes every second, so the engine applies a diff that must leave "soak" alone.
    config = {
        "stream_proxy": {"tcp": ["127.0.0.1:%d" % proxy_port]},
        "stream_routes": [
            {"id": "edited", "remote_addr": "127.0.0.99", "server_port": proxy_port,
             "plugins": {"ip-restriction": {"whitelist": ["10.%d.%d.0/24" % (edit // 250 % 250, edit % 250)]}},
             "upstream": {"nodes": {"127.0.0.1:%d" % echo_port: 1}, "type": "roundrobin"}},
            {"id": "soak", "server_port": proxy_port,
             "plugins": {"ip-restriction": {"whitelist": ["127.0.0.1"]}},
             "upstream": {"nodes": {"127.0.0.1:%d" % echo_port: 1}, "type": "roundrobin",
                          "timeout": {"connect": 5, "send": 600, "read": 600}}},
        ],
    }
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(config, f)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--connections", type=int, default=100000)
    ap.add_argument("--hold", type=int, default=10000)
    ap.add_argument("--wave", type=int, default=1000)
    ap.add_argument("--payload", type=int, default=2048)
    ap.add_argument("--warmup", type=int, default=6000,
                    help="sessions before the baseline (fills the 10,000-event ring: 2 per session)")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--timeout", type=float, default=3600)
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    deadline = time.monotonic() + args.timeout

    # Descriptors: the held connections (client side, proxy's two, the echo server's one), plus
    # a wave of each. Root may raise the hard limit; otherwise use what the hard limit allows.
    need = 2 * (args.hold + args.wave) + 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(need, soft)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(want, hard)))
    except (ValueError, PermissionError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        if hard < need:
            print("soak: RLIMIT_NOFILE hard limit %d is below the %d needed; "
                  "run as root or lower --hold/--wave" % (hard, need), file=sys.stderr)
            return 2

    work = tempfile.mkdtemp(prefix="sg-soak-")
    config = os.path.join(work, "streamgate.json")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4096)
    echo_port = listener.getsockname()[1]
    echo_pid = os.fork()
    if echo_pid == 0:
        try:
            echo_server(listener)
        finally:
            os._exit(0)
    listener.close()

    proxy_port = free_port()
    edits = 0
    write_config(config, proxy_port, echo_port, edits)
    access_log = open(os.path.join(work, "access.log"), "wb")
    errlog = open(os.path.join(work, "stderr.log"), "wb")
    proxy = subprocess.Popen([args.binary, "--headless", "--config", config],
                             stdout=access_log, stderr=errlog)
    failures = []
    try:
        load = Load(proxy_port, args.payload, rng)
        # Wait for the listener.
        for _ in range(200):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", proxy_port)) == 0:
                    break
            if proxy.poll() is not None:
                raise SystemExit("soak: streamgate exited with %s" % proxy.returncode)
            time.sleep(0.05)
        probes = 1  # the probe above is a session of the soak route too
        baseline_fds = None

        last_edit = [time.monotonic()]

        def tick():
            nonlocal edits
            now = time.monotonic()
            if now - last_edit[0] >= 1.0:
                edits += 1
                write_config(config, proxy_port, echo_port, edits)
                last_edit[0] = now

        # Warm-up: enough sessions to fill the engine's bounded rings (closed connections, events:
        # two per session) and at least one config reload, so that what follows is steady state.
        t0 = time.monotonic()
        warm = load.run(args.warmup, args.wave, on_tick=tick, deadline=deadline)
        while edits < 1:
            load.step(0.1)
            tick()
        time.sleep(1.0)
        baseline_fds = fd_count(proxy.pid)
        baseline_targets = fd_targets(proxy.pid)

        held = [c for c in load.run(args.hold, args.wave, hold=True, on_tick=tick, deadline=deadline)
                if c.sock is not None]
        warm += load.run(args.wave, args.wave, on_tick=tick, deadline=deadline)
        time.sleep(1.0)
        warm_rss = rss_kb(proxy.pid)
        held_fds = fd_count(proxy.pid)
        waves = 0
        done = 0
        peak_rss = warm_rss
        wave_rss = []
        while done < args.connections and time.monotonic() < deadline:
            n = min(args.wave, args.connections - done)
            load.run(n, n, on_tick=tick, deadline=deadline)
            done += n
            waves += 1
            tick()
            wave_rss.append(rss_kb(proxy.pid))
            peak_rss = max(peak_rss, wave_rss[-1])
        # Same load point as the warm-up measurement: held connections open, no wave running.
        time.sleep(1.0)
        end_rss = rss_kb(proxy.pid)
        load.echo_again(held, on_tick=tick)
        elapsed = time.monotonic() - t0

        # Afterwards: descriptors back to baseline (sessions close asynchronously: poll).
        end_fds = None
        for _ in range(100):
            end_fds = fd_count(proxy.pid)
            if end_fds <= baseline_fds:
                break
            time.sleep(0.1)
        end_targets = fd_targets(proxy.pid)
        time.sleep(1.5)  # the access log is written at least once a second
        final_rss = rss_kb(proxy.pid)
        if proxy.poll() is not None:
            failures.append("streamgate exited with %s during the run" % proxy.returncode)
    finally:
        if proxy.poll() is None:
            proxy.send_signal(signal.SIGTERM)
            try:
                proxy.wait(15)
            except subprocess.TimeoutExpired:
                proxy.kill()
                proxy.wait()
        os.kill(echo_pid, signal.SIGKILL)
        os.waitpid(echo_pid, 0)
        access_log.close()
        errlog.close()

    expected = len(warm) + args.hold + done
    lines = open(os.path.join(work, "access.log"), "rb").read().decode("utf-8", "replace").splitlines()
    session = re.compile(r'^(\S+) \[[^]]+\] TCP (\d{3}) (\d+) (\d+) [\d.]+ route="([^"]*)" reason="([^"]*)"')
    logged = 0
    log_sent = 0
    log_received = 0
    statuses = {}
    dropped = [l for l in lines if "events were dropped" in l]
    for l in lines:
        m = session.match(l)
        if not m or m.group(5) != "soak":
            continue
        logged += 1
        statuses[m.group(2)] = statuses.get(m.group(2), 0) + 1
        log_sent += int(m.group(3))
        log_received += int(m.group(4))
    reloads = open(os.path.join(work, "stderr.log"), "rb").read().count(b"reloaded")

    print("soak: seed %d, %d held + %d in %d waves of %d (+%d warm-up) in %.1f s, %d route edits, "
          "%d reloads logged" % (seed, args.hold, done, waves, args.wave, len(warm), elapsed,
                                 edits, reloads))
    print("soak: client: %d closed after a correct echo, %d bytes sent, %d received, %d errors"
          % (load.completed, load.bytes_sent, load.bytes_received, len(load.errors)))
    print("soak: access log: %d sessions of route soak (+%d probe), status %s, %d bytes received, "
          "%d sent, %d 'dropped' lines" % (logged - probes, probes, statuses, log_received, log_sent,
                                           len(dropped)))
    print("soak: descriptors: baseline %d, with %d held %d, end %s; RSS after warm-up %d KiB, "
          "peak %d KiB, after the last wave %d KiB (%+.1f%%), all closed %d KiB"
          % (baseline_fds, len(held), held_fds, end_fds, warm_rss, peak_rss, end_rss,
             100.0 * (end_rss - warm_rss) / warm_rss, final_rss))

    # Whether memory grows with the sessions served or levels off: RSS at the end of the waves.
    step = max(1, len(wave_rss) // 20)
    print("soak: RSS after wave (wave:KiB): "
          + " ".join("%d:%d" % (i + 1, wave_rss[i]) for i in range(step - 1, len(wave_rss), step)))
    if load.errors:
        failures.append("%d client errors, first: %s" % (len(load.errors), load.errors[:5]))
    if load.completed != expected or len(held) != args.hold:
        failures.append("client completed %d of %d connections (%d of %d held)"
                        % (load.completed, expected, len(held), args.hold))
    if load.bytes_sent != load.bytes_received:
        failures.append("sent %d bytes, %d came back" % (load.bytes_sent, load.bytes_received))
    if end_fds is None or end_fds > baseline_fds:
        extra = {fd: t for fd, t in end_targets.items() if baseline_targets.get(fd) != t}
        failures.append("descriptors: %s at the end, baseline %d; new: %s" % (end_fds, baseline_fds, extra))
    if end_rss > warm_rss * 1.10:
        failures.append("RSS %d KiB is more than 10%% above the post-warm-up %d KiB" % (end_rss, warm_rss))
    if logged - probes != load.completed:
        failures.append("access log has %d sessions, the client closed %d" % (logged - probes, load.completed))
    if log_received != load.bytes_sent or log_sent != load.bytes_received:
        failures.append("access log bytes %d received / %d sent, client sent %d / received %d"
                        % (log_received, log_sent, load.bytes_sent, load.bytes_received))
    if dropped:
        failures.append("the access log lost events: %s" % dropped[0])
    if edits < 1 or reloads < 1:
        failures.append("no route edit was applied (%d edits, %d reloads)" % (edits, reloads))
    for f in failures:
        print("soak: FAIL: " + f)
    if not failures:
        print("soak: PASS")
        import shutil
        shutil.rmtree(work, ignore_errors=True)
    else:
        print("soak: logs kept in " + work)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

# SPDX-License-Identifier: GPL-2.0-only
# Hostile and well-behaved HTTP clients for test_http_abuse.sh, loopback
# only. Every mode is bounded in time and prints one line of results.
#   get PORT SRC PATH TIMEOUT
#       one GET; "STATUS BYTES SECONDS" (STATUS "-" when nothing came back,
#       BYTES counts the body only when it is complete)
#   hold PORT SRCS N HOLD TIMEOUT
#       N idle connections from each of SRCS (comma-separated source
#       addresses), all closed after HOLD s, then a GET from the first at
#       once; then N again, and a GET while they are open:
#       "STATUS_AFTER S STATUS_DURING S"
#   slowloris PORT SRCS N DURATION GOOD_SRCS GOOD_EVERY
#       N connections from each of SRCS sending one byte of an endless
#       request head every 4 s, reconnecting when cut; every GOOD_EVERY s a
#       GET /metrics from each of GOOD_SRCS (comma-separated, their GETs
#       spread over the period). "OPENED CUT MAX_LIFE" then, for each of
#       GOOD_SRCS, "GOOD_OK GOOD_N GOOD_MAX_S GOOD_ALL_S": GOOD_ALL_S lists
#       each GET's seconds
#   slowread PORT SRC RATE START DURATION
#       after START s, GET /metrics and read RATE bytes/s, again each time
#       it is cut, until DURATION s: "REQUESTS CUT MAX_S LENGTH" (MAX_S:
#       the longest a response lasted before it was cut)
import select
import socket
import sys
import time


def connect(port, src, timeout=5.0, rcvbuf=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s


def get(port, src, path, timeout):
    """(status, body bytes if complete else -1, seconds)."""
    t0 = time.monotonic()
    deadline = t0 + timeout
    try:
        s = connect(port, src, timeout)
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
        data = bytearray()
        while time.monotonic() < deadline:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            d = s.recv(1 << 20)
            if not d:
                break
            data += d
        s.close()
    except OSError:
        return "-", -1, time.monotonic() - t0
    dt = time.monotonic() - t0
    if not data:
        return "-", -1, dt
    head, _, body = bytes(data).partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = lines[0].split(b" ")[1].decode() if len(lines[0].split(b" ")) > 1 else "?"
    length = None
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    n = len(body) if length is not None and len(body) == length else -1
    return status, n, dt


def mode_get(port, src, path, timeout):
    st, n, dt = get(port, src, path, float(timeout))
    print("%s %d %.3f" % (st, n, dt))


def mode_hold(port, srcs, n, hold, timeout):
    srcs = srcs.split(",")
    # Released: held HOLD s (less than the idle timeout), closed, then a
    # request at once.
    socks = [connect(port, a) for a in srcs for _ in range(int(n))]
    time.sleep(float(hold))
    for s in socks:
        s.close()
    st1, _, dt1 = get(port, srcs[0], "/healthz", float(timeout))
    # Held: a request while they are open.
    socks = [connect(port, a) for a in srcs for _ in range(int(n))]
    time.sleep(0.3)
    st2, _, dt2 = get(port, srcs[0], "/healthz", float(timeout))
    for s in socks:
        s.close()
    print("%s %.3f %s %.3f" % (st1, dt1, st2, dt2))


HEAD = b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100000


def mode_slowloris(port, srcs, n, duration, good_src, good_every):
    end = time.monotonic() + float(duration)
    conns = {}      # socket -> (opened at, bytes sent)
    opened = cut = 0
    max_life = 0.0

    def open_one(src):
        nonlocal opened
        try:
            s = connect(port, src, 2.0)
            s.setblocking(False)
            s.send(HEAD[:1])
        except OSError:
            return
        conns[s] = [time.monotonic(), 1, src]
        opened += 1

    for a in srcs.split(","):
        for _ in range(int(n)):
            open_one(a)
    next_byte = time.monotonic() + 4
    goods = good_src.split(",")
    every = float(good_every) / len(goods)
    next_good = time.monotonic() + every
    good = {g: [] for g in goods}
    turn = 0
    while time.monotonic() < end:
        now = time.monotonic()
        if now >= next_good:
            g = goods[turn % len(goods)]
            turn += 1
            st, nb, dt = get(port, g, "/metrics", 30.0)
            good[g].append((st == "200" and nb > 0, dt))
            next_good = time.monotonic() + every
            continue
        if now >= next_byte:
            for s, c in list(conns.items()):
                try:
                    s.send(HEAD[c[1] % len(HEAD):c[1] % len(HEAD) + 1])
                    c[1] += 1
                except OSError:
                    pass
            next_byte = now + 4
        r, _, _ = select.select(list(conns), [], [], 0.05)
        for s in r:
            try:
                d = s.recv(4096)
            except OSError:
                d = b""
            if d:
                continue
            life = time.monotonic() - conns[s][0]
            src = conns.pop(s)[2]
            s.close()
            cut += 1
            max_life = max(max_life, life)
            open_one(src)
    for s in conns:
        s.close()
    out = "%d %d %.2f" % (opened, cut, max_life)
    for g in goods:
        gets = good[g]
        out += " %d %d %.3f %s" % (sum(1 for x in gets if x[0]), len(gets),
                                   max([x[1] for x in gets] or [0]),
                                   ",".join("%.3f" % x[1] for x in gets) or "-")
    print(out)


def mode_slowread(port, src, rate, start, duration):
    rate = int(rate)
    time.sleep(float(start))
    end = time.monotonic() + float(duration)
    reqs = cut = 0
    max_s = 0.0
    length = -1
    while time.monotonic() < end:
        try:
            s = connect(port, src, 5.0, rcvbuf=32768)
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        except OSError:
            time.sleep(0.2)
            continue
        reqs += 1
        t0 = time.monotonic()
        got = 0
        buf = b""
        length = -1
        closed = False
        while time.monotonic() < end:
            try:
                d = s.recv(min(rate // 10, 65536))
            except OSError:
                d = b""
            if not d:
                closed = True
                break
            if length < 0:
                buf += d
                head, sep, body = buf.partition(b"\r\n\r\n")
                if sep:
                    for line in head.split(b"\r\n")[1:]:
                        k, _, v = line.partition(b":")
                        if k.strip().lower() == b"content-length":
                            length = int(v.strip())
                    got = len(body)
                    buf = b""
            else:
                got += len(d)
            if length >= 0 and got >= length:
                break
            time.sleep(0.1)
        s.close()
        if closed and (length < 0 or got < length):
            cut += 1
            max_s = max(max_s, time.monotonic() - t0)
    print("%d %d %.2f %d" % (reqs, cut, max_s, length))


modes = {"get": mode_get, "hold": mode_hold, "slowloris": mode_slowloris,
         "slowread": mode_slowread}
modes[sys.argv[1]](int(sys.argv[2]), *sys.argv[3:])

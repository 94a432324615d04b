#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_pgtracker from the recorded PostgreSQL conversations
(tests/data/postgres/*.conv) plus a few hand-made ones, in the fuzzer's input format
(see fuzz_pgtracker.cpp)."""
import hashlib
import pathlib
import struct

root = pathlib.Path(__file__).resolve().parents[2]
out = root / "tests/fuzz/corpus/pgtracker"
out.mkdir(parents=True, exist_ok=True)


def read_conv(path):
    data = path.read_bytes()
    pos, chunks = 0, []
    while pos < len(data):
        direction, n = data[pos:pos + 1], struct.unpack_from("<I", data, pos + 1)[0]
        chunks.append((direction == b"C", data[pos + 5:pos + 5 + n]))
        pos += 5 + n
    return chunks


def encode(chunks, login, piece=127):
    seed = bytearray([1 if login else 0])
    for from_client, b in chunks:
        seed += bytes([0, 1])  # the next chunk one microsecond later
        for i in range(0, len(b), piece):
            part = b[i:i + piece]
            seed.append((0x80 if from_client else 0) | len(part))
            seed += part
    return bytes(seed)


def msg(t, body=b""):
    return t + struct.pack(">I", len(body) + 4) + body


def cstr(s):
    return s + b"\0"


def startup(user=b"u", version=196608, extra=b""):
    body = struct.pack(">I", version) + cstr(b"user") + cstr(user) + extra + b"\0"
    return struct.pack(">I", len(body) + 4) + body


ready = msg(b"Z", b"I")
sync = msg(b"S")
login_ok = msg(b"R", struct.pack(">I", 0)) + msg(b"S", cstr(b"server_version") + cstr(b"15.4")) + \
    msg(b"K", struct.pack(">II", 1, 2)) + ready
row_desc = msg(b"T", struct.pack(">H", 1) + cstr(b"a") + b"\0" * 18)
def row(v): return msg(b"D", struct.pack(">HI", 1, len(v)) + v)
def complete(tag): return msg(b"C", cstr(tag))
def parse(name, text): return msg(b"P", cstr(name) + cstr(text) + b"\0\0")
def bind(portal, stmt): return msg(b"B", cstr(portal) + cstr(stmt) + b"\0" * 6)
def execute(portal=b"", rows=0): return msg(b"E", cstr(portal) + struct.pack(">I", rows))
def error(code, text): return msg(b"E", b"SERROR\0C" + cstr(code) + b"M" + cstr(text) + b"\0")

seeds = {
    "simple-query": (True, [(True, msg(b"Q", cstr(b"SELECT a FROM t"))),
                            (False, row_desc + row(b"1") + row(b"2") + complete(b"SELECT 2") + ready)]),
    "extended-batch": (True, [(True, parse(b"s", b"SELECT $1") + bind(b"", b"s") +
                               msg(b"D", b"P\0") + execute() + sync),
                              (False, msg(b"1") + msg(b"2") + row_desc + row(b"7") +
                               complete(b"SELECT 1") + ready)]),
    "error-mid-batch": (True, [(True, parse(b"", b"SELEC") + bind(b"", b"") + execute() +
                                parse(b"", b"SELECT 1") + bind(b"", b"") + execute() + sync),
                               (False, error(b"42601", b"syntax error") + ready)]),
    "copy-in-out": (True, [(True, msg(b"Q", cstr(b"COPY t FROM STDIN"))),
                           (False, msg(b"G", b"\0\0\1\0\0")),
                           (True, msg(b"d", b"1\n") + msg(b"c")),
                           (False, complete(b"COPY 1") + ready),
                           (True, msg(b"Q", cstr(b"COPY t TO STDOUT"))),
                           (False, msg(b"H", b"\0\0\1\0\0") + msg(b"d", b"1\n") + msg(b"c") +
                            complete(b"COPY 1") + ready)]),
    "ssl-refused-then-login": (False, [(True, struct.pack(">II", 8, 80877103)), (False, b"N"),
                                       (True, startup(extra=cstr(b"database") + cstr(b"db"))),
                                       (False, msg(b"R", struct.pack(">I", 3))),
                                       (True, msg(b"p", cstr(b"secret"))),
                                       (False, login_ok)]),
    "login-failed": (False, [(True, startup()), (False, msg(b"R", struct.pack(">I", 5)) + b"")]),
    "portal-suspended-and-function": (True, [
        (True, parse(b"", b"SELECT * FROM big") + bind(b"c", b"") + execute(b"c", 1) + sync),
        (False, msg(b"1") + msg(b"2") + row(b"1") + msg(b"s") + ready),
        (True, msg(b"F", struct.pack(">IHHH", 1598, 0, 0, 0))),
        (False, msg(b"V", struct.pack(">I", 1) + b"x") + ready),
        (True, msg(b"X"))]),
    # libpq's COPY through the extended protocol: the Sync after the Execute is ignored, the
    # one after CopyDone / CopyFail answered.
    "extended-copy-in-and-fail": (True, [
        (True, parse(b"", b"COPY t FROM STDIN") + bind(b"", b"") + execute() + sync),
        (False, msg(b"1") + msg(b"2") + msg(b"G", b"\0\0\1\0\0")),
        (True, msg(b"d", b"1\n") + msg(b"c") + sync),
        (False, complete(b"COPY 1") + ready),
        (True, parse(b"", b"COPY t FROM STDIN") + bind(b"", b"") + execute() + sync),
        (False, msg(b"1") + msg(b"2") + msg(b"G", b"\0\0\1\0\0")),
        (True, msg(b"d", b"2\n") + msg(b"f", cstr(b"no")) + sync),
        (False, error(b"57014", b"COPY from stdin failed") + ready)]),
    # Database TLS's request reader: a GSSENCRequest refused, then an SSLRequest; and direct TLS.
    "gssenc-then-ssl-request": (False, [(True, struct.pack(">II", 8, 80877104)), (False, b"N"),
                                        (True, struct.pack(">II", 8, 80877103))]),
    "direct-tls-hello": (False, [(True, b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x03")]),
    "cancel-request-3.2": (False, [(True, struct.pack(">III", 48, 80877102, 7) + b"k" * 36)]),
    "portal-after-commit": (True, [
        (True, msg(b"Q", cstr(b"BEGIN"))), (False, complete(b"BEGIN") + msg(b"Z", b"T")),
        (True, parse(b"s", b"SELECT 1") + bind(b"c", b"s") + execute(b"c", 1) + sync),
        (False, msg(b"1") + msg(b"2") + row(b"1") + msg(b"s") + msg(b"Z", b"T")),
        (True, msg(b"Q", cstr(b"COMMIT"))), (False, complete(b"COMMIT") + ready),
        (True, execute(b"c") + sync), (False, error(b"34000", b"no portal") + ready)]),
}
for name, (login, chunks) in seeds.items():
    (out / name).write_bytes(encode(chunks, login))
for conv in sorted((root / "tests/data/postgres").glob("*.conv")):
    (out / ("recorded-" + conv.stem)).write_bytes(encode(read_conv(conv), False))
print(len(list(out.iterdir())), "seeds in", out)

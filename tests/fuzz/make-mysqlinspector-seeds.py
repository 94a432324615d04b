#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_mysqlinspector from the recorded MariaDB conversations
(tests/data/mysql/*.conv) plus a few hand-made ones, in the fuzzer's input format
(see fuzz_mysqlinspector.cpp)."""
import pathlib
import struct

root = pathlib.Path(__file__).resolve().parents[2]
out = root / "tests/fuzz/corpus/mysqlinspector"
out.mkdir(parents=True, exist_ok=True)


def read_conv(path):
    data = path.read_bytes()
    pos, chunks = 0, []
    while pos < len(data):
        direction, n = data[pos:pos + 1], struct.unpack_from("<I", data, pos + 1)[0]
        chunks.append((direction == b"C", data[pos + 5:pos + 5 + n]))
        pos += 5 + n
    return chunks


def encode(chunks, count_commands, piece):
    seed = bytearray([1 if count_commands else 0])
    for from_client, b in chunks:
        for i in range(0, len(b), piece):
            part = b[i:i + piece]
            seed.append((0x80 if from_client else 0) | len(part))
            seed += part
    return bytes(seed)


def packet(seq, payload):
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload


for conv in sorted((root / "tests/data/mysql").glob("*.conv")):
    chunks = read_conv(conv)
    (out / f"{conv.stem}-count").write_bytes(encode(chunks, True, 127))
    (out / f"{conv.stem}-nocount-small").write_bytes(encode(chunks, False, 5))

greeting = read_conv(root / "tests/data/mysql/login_with_database.conv")[0][1]
ssl = packet(1, struct.pack("<II", 0x002A8A01 | 0x800, 0x01000000) + b"\x21" + bytes(23))
(out / "ssl-request").write_bytes(encode([(False, greeting), (True, ssl + b"\x16\x03\x01\x02\x00")], True, 127))
(out / "http").write_bytes(encode([(True, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")], True, 127))
(out / "ssh").write_bytes(encode([(False, b"SSH-2.0-OpenSSH_9.2p1\r\n")], True, 127))
(out / "err-before-greeting").write_bytes(
    encode([(False, packet(0, b"\xff\x10\x04Too many connections"))], True, 127))
print(f"{len(list(out.iterdir()))} seeds in {out}")

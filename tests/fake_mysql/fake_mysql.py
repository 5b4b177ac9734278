#!/usr/bin/env python3
"""A hostile MySQL server for the tests: it speaks just enough of the protocol to log a
client in, then misbehaves, and records what the client sent (one JSON object a line).

Modes:
  infile     no TLS; logs in anyone; answers every query but `@@max_allowed_packet` with a
             LOCAL INFILE request for a file of the client's machine, and records how many
             bytes of it the client sends (a safe client sends none).
  sha2-full  no TLS; asks for caching_sha2_password's full authentication (the client would
             send its password in clear, or RSA-encrypted to a key this server chooses) and
             records whatever the client sends next.

Usage: fake_mysql.py MODE LOGFILE [FILE_ASKED_FOR]; prints the port it listens on (all
addresses), serves connections until killed.
"""
import json
import socket
import struct
import sys
import threading

MODE, LOG = sys.argv[1], sys.argv[2]
ASKED = (sys.argv[3] if len(sys.argv) > 3 else "/etc/hostname").encode()

CAPS = (0x1 | 0x8 | 0x80 | 0x200 | 0x2000 | 0x8000 | 0x20000 | 0x80000)  # no CLIENT_SSL (0x800)
lock = threading.Lock()


def log(**event):
    with lock, open(LOG, "a") as f:
        f.write(json.dumps(event) + "\n")


def read_packet(conn):
    head = b""
    while len(head) < 4:
        chunk = conn.recv(4 - len(head))
        if not chunk:
            return None, None
        head += chunk
    length = head[0] | head[1] << 8 | head[2] << 16
    body = b""
    while len(body) < length:
        chunk = conn.recv(length - len(body))
        if not chunk:
            return None, None
        body += chunk
    return head[3], body


def send(conn, seq, payload):
    conn.sendall(struct.pack("<I", len(payload))[:3] + bytes([seq & 0xFF]) + payload)


def lenenc(data):
    return bytes([len(data)]) + data


def ok(conn, seq):
    send(conn, seq, b"\x00\x00\x00\x02\x00\x00\x00")


def one_value(conn, value):
    col = (lenenc(b"def") + lenenc(b"") + lenenc(b"") + lenenc(b"") + lenenc(b"v") + lenenc(b"")
           + b"\x0c" + struct.pack("<HIBHB", 33, 255, 0xFD, 0, 0) + b"\x00\x00")
    eof = b"\xfe\x00\x00\x02\x00"
    send(conn, 1, b"\x01")
    send(conn, 2, col)
    send(conn, 3, eof)
    send(conn, 4, lenenc(value))
    send(conn, 5, eof)


def serve(conn):
    plugin = b"caching_sha2_password" if MODE == "sha2-full" else b"mysql_native_password"
    greeting = (b"\x0a" + b"8.0.36-fake\x00" + struct.pack("<I", 7) + b"abcdefgh" + b"\x00"
                + struct.pack("<H", CAPS & 0xFFFF) + b"\x21" + struct.pack("<H", 2)
                + struct.pack("<H", CAPS >> 16) + b"\x15" + b"\x00" * 10 + b"ijklmnopqrst\x00"
                + plugin + b"\x00")
    send(conn, 0, greeting)
    seq, response = read_packet(conn)
    # A login carries the user name; a client that gives up sends nothing or COM_QUIT (1 byte).
    login = response is not None and len(response) > 1
    log(event="handshake_response", received=response is not None, login=login,
        bytes=0 if response is None else len(response))
    if not login:
        return
    if MODE == "sha2-full":
        send(conn, seq + 1, b"\x01\x04")  # perform full authentication
        seq, after = read_packet(conn)
        log(event="after_full_auth_request", received=after is not None,
            bytes=0 if after is None else len(after),
            text="" if after is None else after.decode("latin-1"))
        return
    ok(conn, seq + 1)
    while True:
        seq, command = read_packet(conn)
        if command is None:
            return
        if command[:1] != b"\x03":
            ok(conn, 1)
            continue
        query = command[1:].decode("utf-8", "replace")
        if "max_allowed_packet" in query:
            one_value(conn, b"67108864")
            continue
        send(conn, 1, b"\xfb" + ASKED)
        sent = 0
        while True:
            s, data = read_packet(conn)
            if data is None:
                log(event="infile", query=query, bytes=sent, closed=True)
                return
            if not data:
                break
            sent += len(data)
        log(event="infile", query=query, bytes=sent)
        ok(conn, s + 1)


def main():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", 0))
    listener.listen(8)
    print(listener.getsockname()[1], flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=lambda c=conn: (serve(c), c.close()), daemon=True).start()


if __name__ == "__main__":
    main()

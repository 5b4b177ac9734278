#!/usr/bin/env python3
"""A real SMTP server for the tests (Debian's python3-aiosmtpd) on loopback.

Saves each received message as an .eml file in OUT_DIR. With --cert/--key it offers STARTTLS
and requires it before AUTH; with --user/--password it requires AUTH (PLAIN/LOGIN). Without
--starttls it offers no STARTTLS at all (to check that the client refuses plain text).
Prints "ready PORT" on stdout when listening.

Usage: smtp_server.py OUT_DIR [--port N] [--cert C --key K] [--user U --password P]
"""
import argparse
import asyncio
import ssl
import sys
import time
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Saver:
    def __init__(self, out):
        self.out = Path(out)
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        name = self.out / f"{time.time_ns()}-{self.n}.eml"
        name.write_bytes(envelope.original_content or envelope.content)
        return "250 OK"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--user")
    ap.add_argument("--password")
    args = ap.parse_args()
    Path(args.out).mkdir(parents=True, exist_ok=True)

    kwargs = {}
    if args.cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.cert, args.key)
        kwargs.update(tls_context=ctx, require_starttls=True)
    if args.user:
        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == args.user \
                and auth_data.password.decode() == args.password
            return AuthResult(success=ok, handled=False)
        kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=bool(args.cert))

    port = args.port
    if port == 0:
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
    controller = Controller(Saver(args.out), hostname="127.0.0.1", port=port, server_hostname="localhost", **kwargs)
    controller.start()
    print(f"ready {port}", flush=True)
    try:
        asyncio.get_event_loop().run_until_complete(asyncio.sleep(3600))
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    sys.exit(main())

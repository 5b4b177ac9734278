#!/usr/bin/env python3
"""A stand-in for Google's OAuth and Drive v3 endpoints, for the destination tests.

It checks what a real Google would refuse (PKCE S256, client secret, redirect URI, bearer
tokens, the drive.file scope, resumable-upload Content-Range arithmetic) and keeps files in
memory. GET /debug/files and /debug/log let a test see what arrived. Not Google: the README
says Billora's Drive support has not been tried against Google from this machine.

    drive_standin.py PORT
"""
import base64
import hashlib
import json
import secrets
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CLIENT_ID = "billora-test-client"
CLIENT_SECRET = "gdrive-test-secret"
FOLDER = "application/vnd.google-apps.folder"

lock = threading.Lock()
codes = {}  # code -> (challenge, redirect_uri, scope)
refresh_tokens = set()
access_tokens = set()
files = {}  # id -> {"name", "parents", "mimeType", "data"}
sessions = {}  # id -> {"name", "parents", "size", "data"}
log = []


def new_id(prefix):
    return prefix + secrets.token_hex(6)


def described(fid):
    f = files[fid]
    out = {"id": fid, "name": f["name"], "mimeType": f["mimeType"], "parents": f["parents"]}
    if f["mimeType"] != FOLDER:
        out["size"] = str(len(f["data"]))
        out["sha256Checksum"] = hashlib.sha256(f["data"]).hexdigest()
    return out


def matches(f, q):
    """The subset of Drive's query language Billora uses: name, mimeType, parent, trashed."""
    import re

    for clause in re.split(r"\s+and\s+", q):
        clause = clause.strip()
        m = re.fullmatch(r"name\s*=\s*'((?:[^'\\]|\\.)*)'", clause)
        if m:
            if f["name"] != re.sub(r"\\(.)", r"\1", m.group(1)):
                return False
            continue
        m = re.fullmatch(r"mimeType\s*=\s*'([^']*)'", clause)
        if m:
            if f["mimeType"] != m.group(1):
                return False
            continue
        m = re.fullmatch(r"'([^']*)'\s+in\s+parents", clause)
        if m:
            if m.group(1) not in f["parents"]:
                return False
            continue
        if clause == "trashed = false":
            continue
        raise ValueError(f"unsupported query clause: {clause}")
    return True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=None, content_type="application/json"):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if body or status not in (204, 302, 308):
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def authorized(self):
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer ") and auth[7:] in access_tokens:
            return True
        self.reply(401, {"error": {"code": 401, "message": "Invalid Credentials"}})
        return False

    def record(self, extra=None):
        entry = {"method": self.command, "path": self.path.split("?")[0]}
        entry.update(extra or {})
        with lock:
            log.append(entry)

    # --- OAuth ---
    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/o/oauth2/v2/auth":
            self.record({"query": query})
            ok = (
                query.get("client_id") == CLIENT_ID
                and query.get("response_type") == "code"
                and query.get("code_challenge_method") == "S256"
                and query.get("scope") == "https://www.googleapis.com/auth/drive.file"
                and query.get("redirect_uri", "").startswith("http://127.0.0.1:")
            )
            if query.get("client_id") == CLIENT_ID + "-deny":
                # The person chose "Cancel" on the consent page.
                target = query["redirect_uri"] + "?" + urllib.parse.urlencode({"error": "access_denied", "state": query.get("state", "")})
                return self.reply(302, headers={"Location": target})
            if not ok:
                return self.reply(400, {"error": "invalid_request"})
            code = new_id("code-")
            with lock:
                codes[code] = (query["code_challenge"], query["redirect_uri"])
            target = query["redirect_uri"] + "?" + urllib.parse.urlencode({"code": code, "state": query.get("state", "")})
            return self.reply(302, headers={"Location": target})
        if url.path == "/debug/files":
            with lock:
                return self.reply(200, [described(i) for i in files])
        if url.path == "/debug/log":
            with lock:
                return self.reply(200, log)
        if not self.authorized():
            return
        if url.path == "/drive/v3/files":
            self.record({"q": query.get("q")})
            try:
                with lock:
                    found = [described(i) for i, f in files.items() if matches(f, query.get("q", ""))]
            except ValueError as e:
                return self.reply(400, {"error": {"message": str(e)}})
            return self.reply(200, {"files": found})
        if url.path.startswith("/drive/v3/files/") and query.get("alt") == "media":
            fid = url.path.rsplit("/", 1)[1]
            self.record()
            with lock:
                f = files.get(fid)
            if not f:
                return self.reply(404, {"error": {"code": 404, "message": "File not found"}})
            return self.reply(200, f["data"], content_type="application/octet-stream")
        self.reply(404, {"error": "no such endpoint"})

    def do_POST(self):
        url = urllib.parse.urlparse(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/token":
            form = dict(urllib.parse.parse_qsl(self.body().decode()))
            self.record({"grant_type": form.get("grant_type")})
            if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
                return self.reply(401, {"error": "invalid_client"})
            if form.get("grant_type") == "authorization_code":
                with lock:
                    challenge, redirect = codes.pop(form.get("code", ""), (None, None))
                verifier = form.get("code_verifier", "")
                expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if challenge is None or expected != challenge or form.get("redirect_uri") != redirect:
                    return self.reply(400, {"error": "invalid_grant"})
                refresh, access = new_id("rt-"), new_id("at-")
                with lock:
                    refresh_tokens.add(refresh)
                    access_tokens.add(access)
                return self.reply(200, {"access_token": access, "expires_in": 3599, "refresh_token": refresh, "token_type": "Bearer"})
            if form.get("grant_type") == "refresh_token":
                if form.get("refresh_token") not in refresh_tokens:
                    return self.reply(400, {"error": "invalid_grant"})
                access = new_id("at-")
                with lock:
                    access_tokens.add(access)
                return self.reply(200, {"access_token": access, "expires_in": 3599, "token_type": "Bearer"})
            return self.reply(400, {"error": "unsupported_grant_type"})
        if not self.authorized():
            return
        meta = json.loads(self.body() or b"{}")
        if url.path == "/drive/v3/files":
            self.record({"name": meta.get("name")})
            fid = new_id("f-")
            with lock:
                files[fid] = {"name": meta["name"], "parents": meta.get("parents", ["root"]), "mimeType": meta.get("mimeType", ""), "data": b""}
            return self.reply(200, {"id": fid})
        if url.path == "/upload/drive/v3/files" and query.get("uploadType") == "resumable":
            size = int(self.headers.get("X-Upload-Content-Length", "-1"))
            self.record({"name": meta.get("name"), "size": size})
            sid = new_id("s-")
            with lock:
                sessions[sid] = {"name": meta["name"], "parents": meta.get("parents", ["root"]), "size": size, "data": bytearray()}
            host = self.headers.get("Host")
            return self.reply(200, headers={"Location": f"http://{host}/upload/session/{sid}"})
        self.reply(404, {"error": "no such endpoint"})

    def do_PUT(self):
        url = urllib.parse.urlparse(self.path)
        if not url.path.startswith("/upload/session/"):
            return self.reply(404, {"error": "no such endpoint"})
        if not self.authorized():
            return
        sid = url.path.rsplit("/", 1)[1]
        data = self.body()
        rng = self.headers.get("Content-Range", "")
        self.record({"chunk": len(data), "range": rng})
        with lock:
            s = sessions.get(sid)
            if s is None:
                return self.reply(404, {"error": "no such session"})
            import re

            m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", rng)
            if m:
                start, end, total = map(int, m.groups())
                if start != len(s["data"]) or end - start + 1 != len(data) or total != s["size"]:
                    return self.reply(400, {"error": "bad Content-Range"})
                s["data"] += data
            elif rng != "bytes */0":
                return self.reply(400, {"error": "bad Content-Range"})
            if len(s["data"]) < s["size"]:
                return self.reply(308, headers={"Range": f"bytes=0-{len(s['data']) - 1}"})
            del sessions[sid]
            fid = new_id("f-")
            files[fid] = {"name": s["name"], "parents": s["parents"], "mimeType": "application/octet-stream", "data": bytes(s["data"])}
            return self.reply(200, described(fid))

    def do_DELETE(self):
        url = urllib.parse.urlparse(self.path)
        if not self.authorized():
            return
        self.record()
        with lock:
            if url.path.startswith("/upload/session/"):
                sessions.pop(url.path.rsplit("/", 1)[1], None)
                return self.reply(204)
            if url.path.startswith("/drive/v3/files/"):
                if files.pop(url.path.rsplit("/", 1)[1], None) is None:
                    return self.reply(404, {"error": {"code": 404}})
                return self.reply(204)
        self.reply(404, {"error": "no such endpoint"})


if __name__ == "__main__":
    port = int(sys.argv[1])
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()

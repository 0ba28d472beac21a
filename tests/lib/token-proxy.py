#!/usr/bin/env python3
"""A registry front with the Bearer token protocol, for tests.

  token-proxy.py UPSTREAM [USER:PASSWORD]

Listens on 127.0.0.1 (a free port, printed on stdout), answers `GET /v2/...`
with 401 and `WWW-Authenticate: Bearer realm=".../token",service="kd-test"`
unless the request carries a token it issued, and forwards authorized GETs to
UPSTREAM (http://host:port, a registry without auth). `GET /token` issues a
token for `scope=repository:<name>:pull` (anonymous, or only with the basic
credentials when USER:PASSWORD is given) as `access_token`, the OAuth2 name.
"""
import base64
import http.server
import json
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request

UPSTREAM = sys.argv[1].rstrip("/")
CREDS = sys.argv[2] if len(sys.argv) > 2 else None
TOKENS = {}  # token -> repository name it may pull


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body, headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/token":
            return self.token(urllib.parse.parse_qs(url.query))
        auth = self.headers.get("Authorization", "")
        repo = TOKENS.get(auth[7:]) if auth.startswith("Bearer ") else None
        parts = url.path.split("/")
        wanted = "/".join(parts[2:-2]) if len(parts) > 4 else None
        if repo is None or (wanted is not None and wanted != repo):
            host = self.headers.get("Host")
            challenge = f'Bearer realm="http://{host}/token",service="kd-test"'
            body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
            return self.reply(401, body, [("WWW-Authenticate", challenge),
                                          ("Content-Type", "application/json")])
        req = urllib.request.Request(UPSTREAM + self.path)
        if self.headers.get("Accept"):
            req.add_header("Accept", self.headers["Accept"])
        try:
            with urllib.request.urlopen(req) as r:
                code, headers, body = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            code, headers, body = e.code, e.headers, e.read()
        keep = [(k, headers[k]) for k in ("Content-Type", "Docker-Content-Digest") if headers.get(k)]
        self.reply(code, body, keep)

    def token(self, q):
        if q.get("service") != ["kd-test"] or len(q.get("scope", [])) != 1:
            return self.reply(400, b'{"details":"bad service or scope"}')
        scope = q["scope"][0].split(":")
        if len(scope) != 3 or scope[0] != "repository" or scope[2] != "pull":
            return self.reply(400, b'{"details":"bad scope"}')
        if CREDS is not None:
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Basic ") or base64.b64decode(auth[6:]).decode() != CREDS:
                return self.reply(401, b'{"details":"incorrect username or password"}')
        tok = secrets.token_hex(16)
        TOKENS[tok] = scope[1]
        self.reply(200, json.dumps({"access_token": tok}).encode(),
                   [("Content-Type", "application/json")])


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()

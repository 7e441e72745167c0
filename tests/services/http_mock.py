#!/usr/bin/python3
"""HTTP(S) test server for the pvenotify integration tests (stdlib only).

It speaks Gotify's message API and records every request it receives, so the
same server stands in for Gotify and for arbitrary webhook targets (ntfy,
Discord, ...).  One process serves a plain HTTP and an HTTPS port; both record
into one directory as NNNN.json, written to a temporary name and renamed.

Routes (any method unless noted):
  POST .../message      Gotify "create message" (the path must end in /message
                        and contain no empty segment, so "//message" gets
                        Gotify's plain-text 404 like the real router).  The
                        application token comes from ?token=, X-Gotify-Key or
                        "Authorization: Bearer <token>", in Gotify's order.
                        401 / 400 / 200 bodies follow gotify/server.
  /status/NNN[/...]     answer with status NNN (3xx add Location: /redirected)
  /hang[/...]           record, then never answer (until the client goes away,
                        at most --hang-seconds)
  anything else         200 {"ok": true, "id": N}

Each record: id, time, listener ("http"/"https"), port, tls, peer, method,
target (raw request target), path, query (raw), query_params, headers
([[name, value], ...] in order), body (utf-8 text, invalid bytes replaced),
body_base64, body_json (parsed body or null), response_status.
"""

import argparse
import base64
import datetime
import itertools
import json
import os
import re
import select
import socketserver
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UNAUTHORIZED = {
    "error": "Unauthorized",
    "errorCode": 401,
    "errorDescription": "you need to provide a valid access token or user "
                        "credentials to access this api",
}


class Store:
    def __init__(self, outdir):
        self.outdir = outdir
        os.makedirs(outdir, exist_ok=True)
        self.lock = threading.Lock()
        highest = 0
        for name in os.listdir(outdir):
            m = re.match(r"^(\d+)\.json$", name)
            if m:
                highest = max(highest, int(m.group(1)))
        self.counter = itertools.count(highest + 1)
        self.message_ids = itertools.count(1)

    def next_id(self):
        with self.lock:
            return next(self.counter)

    def next_message_id(self):
        with self.lock:
            return next(self.message_ids)

    def save(self, record):
        stem = "%04d" % record["id"]
        final = os.path.join(self.outdir, stem + ".json")
        tmp = os.path.join(self.outdir, "." + stem + ".json.tmp")
        with open(tmp, "w") as f:
            json.dump(record, f, indent=2, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, final)


def gotify_token(query_params, headers):
    token = (query_params.get("token") or [""])[0]
    if token:
        return token
    token = headers.get("X-Gotify-Key") or ""
    if token:
        return token
    auth = headers.get("Authorization") or ""
    prefix = "Bearer "
    if len(auth) >= len(prefix) and auth[: len(prefix)].lower() == prefix.lower():
        return auth[len(prefix):]
    return ""


class Handler(BaseHTTPRequestHandler):
    server_version = "pvenotify-test-http/1"
    protocol_version = "HTTP/1.1"
    timeout = 60  # per connection socket timeout

    def setup(self):
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()

    # silence default stderr logging of each request; we log our own line
    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s %s\n" % (
            self.server.listener, self.address_string(), fmt % args))

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    # trailers until empty line
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self):
        store = self.server.store
        body = self._read_body()
        target = self.path
        if re.match(r"^https?://", target, re.I):
            # absolute-form (plain-HTTP proxy forwarding): keep path + query
            split = urllib.parse.urlsplit(target)
            target = split.path + ("?" + split.query if split.query else "")
        path, _, query = target.partition("?")
        query_params = urllib.parse.parse_qs(query, keep_blank_values=True)
        body_json = None
        if body:
            try:
                body_json = json.loads(body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                body_json = None
        record = {
            "id": store.next_id(),
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "listener": self.server.listener,
            "port": self.server.server_address[1],
            "tls": self.server.listener == "https",
            "peer": "%s:%s" % self.client_address[:2],
            "method": self.command,
            "target": self.path,
            "path": path,
            "query": query,
            "query_params": query_params,
            "http_version": self.request_version,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body": body.decode("utf-8", "replace"),
            "body_base64": base64.b64encode(body).decode("ascii"),
            "body_json": body_json,
        }

        status, headers, payload, hang = self._route(path, query_params, body,
                                                     body_json)
        record["response_status"] = None if hang else status
        store.save(record)
        if hang:
            self._hang()
            return
        self._send(status, headers, payload)

    def _route(self, path, query_params, body, body_json):
        """Returns (status, extra_headers, payload_bytes_or_obj, hang)."""
        m = re.match(r"^/status/(\d{3})(/.*)?$", path)
        if m:
            code = int(m.group(1))
            headers = {}
            if 300 <= code < 400:
                headers["Location"] = "/redirected"
            return code, headers, {"status": code, "path": path}, False
        if path == "/hang" or path.startswith("/hang/"):
            return 0, {}, None, True
        segments = path.split("/")[1:]
        if segments and segments[-1] == "message" and "" in segments[:-1]:
            # gin: "//message" does not match the /message route
            return 404, {"Content-Type": "text/plain"}, b"404 page not found", False
        if segments and segments[-1] == "message" and self.command == "POST":
            return self._gotify_message(query_params, body, body_json)
        return 200, {}, {"ok": True, "path": path}, False

    def _gotify_message(self, query_params, body, body_json):
        token = gotify_token(query_params, self.headers)
        if token != self.server.token:
            return 401, {}, UNAUTHORIZED, False
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        msg = None
        if ctype == "application/x-www-form-urlencoded":
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            msg = {k: v[0] for k, v in form.items()}
            if "priority" in msg:
                try:
                    msg["priority"] = int(msg["priority"])
                except ValueError:
                    return 400, {}, bad_request(
                        "strconv.ParseInt: parsing %r: invalid syntax" % msg["priority"]), False
        else:
            if body_json is None and body:
                return 400, {}, bad_request("invalid character in JSON body"), False
            msg = body_json if body_json is not None else {}
            if not isinstance(msg, dict):
                return 400, {}, bad_request(
                    "json: cannot unmarshal into Go value of type model.MessageExternal"), False
        message = msg.get("message")
        if not isinstance(message, str) or message == "":
            return 400, {}, bad_request("Field 'message' is required"), False
        title = msg.get("title")
        if not isinstance(title, str) or title == "":
            title = "pvenotify-test"  # Gotify uses the application name
        priority = msg.get("priority")
        if priority is None:
            priority = 0  # the application's default priority
        if not isinstance(priority, int) or isinstance(priority, bool):
            return 400, {}, bad_request(
                "json: cannot unmarshal into Go struct field "
                "MessageExternal.priority of type int"), False
        out = {
            "id": self.server.store.next_message_id(),
            "appid": 1,
            "message": message,
            "title": title,
            "priority": priority,
            "date": datetime.datetime.now(datetime.timezone.utc)
                    .isoformat().replace("+00:00", "Z"),
        }
        extras = msg.get("extras")
        if extras:
            out["extras"] = extras
        return 200, {}, out, False

    def _send(self, status, headers, payload):
        if isinstance(payload, (dict, list)):
            data = json.dumps(payload).encode()
            headers = dict({"Content-Type": "application/json"}, **headers)
        else:
            data = payload or b""
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()

    def _hang(self):
        deadline = time.monotonic() + self.server.hang_seconds
        conn = self.connection
        try:
            while time.monotonic() < deadline:
                r, _, _ = select.select([conn], [], [], 1.0)
                if r:
                    # client closed (EOF) or sent more bytes; stop on EOF
                    if isinstance(conn, ssl.SSLSocket):
                        data = conn.recv(4096)
                    else:
                        data = conn.recv(4096, socket.MSG_DONTWAIT)
                    if not data:
                        break
        except (OSError, ValueError):
            pass
        self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle


def bad_request(desc):
    return {"error": "Bad Request", "errorCode": 400, "errorDescription": desc}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr, listener, store, token, hang_seconds, ssl_ctx=None):
        super().__init__(addr, Handler)
        self.listener = listener
        self.store = store
        self.token = token
        self.hang_seconds = hang_seconds
        self.ssl_ctx = ssl_ctx

    def server_bind(self):
        # HTTPServer.server_bind would call socket.getfqdn(), which can stall
        # on a machine without DNS; the name is not needed.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = host
        self.server_port = port

    def get_request(self):
        sock, addr = super().get_request()
        if self.ssl_ctx is not None:
            # handshake lazily in the handler thread, not in the accept loop
            sock = self.ssl_ctx.wrap_socket(sock, server_side=True,
                                            do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        sys.stderr.write("%s %s: %r\n" % (self.listener, client_address, exc))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--http-port", type=int)
    p.add_argument("--https-port", type=int)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--token", default="testtoken")
    p.add_argument("--hang-seconds", type=float, default=300)
    p.add_argument("--outdir", required=True)
    p.add_argument("--pidfile")
    args = p.parse_args()

    store = Store(args.outdir)
    servers = []
    if args.http_port:
        servers.append(Server((args.host, args.http_port), "http", store,
                              args.token, args.hang_seconds))
    if args.https_port:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.cert, args.key)
        servers.append(Server((args.host, args.https_port), "https", store,
                              args.token, args.hang_seconds, ctx))
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for t in threads:
        t.start()
    for s in servers:
        sys.stderr.write("listening: %s on %s:%d\n" % (s.listener, *s.server_address))
    sys.stderr.flush()
    if args.pidfile:
        tmp = args.pidfile + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(tmp, args.pidfile)
    try:
        for t in threads:
            t.join()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

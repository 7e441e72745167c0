#!/usr/bin/python3
"""SMTP test server for the pvenotify integration tests (aiosmtpd based).

One process serves several listeners on 127.0.0.1, all writing into one mail
directory:

  --plain PORT          no STARTTLS offered, AUTH PLAIN/LOGIN allowed without
                        TLS, AUTH optional (also the postfix relay target)
  --starttls PORT       STARTTLS offered and required before MAIL/AUTH, AUTH optional
  --auth-required PORT  like --starttls, but AUTH is required (530 otherwise)
  --tls PORT            implicit TLS (SMTPS), AUTH optional
  --untrusted-tls PORT  implicit TLS with a self-signed certificate (fault tests)
  --hang PORT           accepts TCP connections and never sends a greeting

Every listener advertises DSN and strips (and records) the DSN parameters
NOTIFY=/ORCPT= (RCPT) and RET=/ENVID= (MAIL), which aiosmtpd would otherwise
reject with 555.

Fault injection by recipient local part (the part before '+' is compared,
case-insensitively, so tests can still use unique addresses like
tempfail+marker@example.com):
  tempfail    -> 451 4.3.0 at RCPT
  reject      -> 550 5.1.1 at RCPT
  rejectdata  -> accepted at RCPT, 554 5.6.0 at the end of DATA

Every accepted message N is written as NNNN.eml (raw DATA bytes) and then
NNNN.json (metadata).  Both are written to a temporary name and renamed, and
the .json is renamed last, so a reader that sees NNNN.json also sees the
complete NNNN.eml.  Passwords are never recorded.
"""

import argparse
import asyncio
import datetime
import itertools
import json
import logging
import os
import re
import ssl
import sys
import threading

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

LOG = logging.getLogger("pvenotify-smtp")

RCPT_DSN_PARAMS = ("NOTIFY", "ORCPT")
MAIL_DSN_PARAMS = ("RET", "ENVID")


class MailStore:
    """Numbered, atomically written message files shared by all listeners."""

    def __init__(self, outdir):
        self.outdir = outdir
        os.makedirs(outdir, exist_ok=True)
        self._lock = threading.Lock()
        highest = 0
        for name in os.listdir(outdir):
            m = re.match(r"^(\d+)\.(json|eml)$", name)
            if m:
                highest = max(highest, int(m.group(1)))
        self._counter = itertools.count(highest + 1)

    def next_id(self):
        with self._lock:
            return next(self._counter)

    def _write_atomic(self, name, data):
        final = os.path.join(self.outdir, name)
        tmp = os.path.join(self.outdir, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, final)
        return final

    def save(self, raw, meta):
        num = self.next_id()
        stem = "%04d" % num
        meta = dict(meta, id=num, eml=stem + ".eml")
        self._write_atomic(stem + ".eml", raw)
        self._write_atomic(
            stem + ".json",
            (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode(),
        )
        return num


def local_part_kind(address):
    local = address.rsplit("@", 1)[0] if "@" in address else address
    return local.split("+", 1)[0].lower()


def split_params(arg, names):
    """Remove the ESMTP parameters listed in `names` from a MAIL/RCPT argument.

    Returns (cleaned_arg, removed_params_in_original_case)."""
    if arg is None:
        return arg, []
    close = arg.rfind(">")
    if close >= 0:
        head, tail = arg[: close + 1], arg[close + 1:]
        tokens = tail.split()
        start = 0
    else:
        tokens = arg.split()
        head = ""
        # keep "TO:" / "TO:addr" / the bare address in front
        start = 1
        if tokens and tokens[0].upper() in ("TO:", "FROM:") and len(tokens) > 1:
            start = 2
    kept, removed = [], []
    for i, tok in enumerate(tokens):
        key = tok.split("=", 1)[0].upper()
        if i >= start and key in names:
            removed.append(tok)
        else:
            kept.append(tok)
    return (head + " " + " ".join(kept)).strip(), removed


class RecordingSMTP(SMTP):
    """aiosmtpd SMTP with DSN support (parameters stripped and recorded)."""

    async def smtp_MAIL(self, arg):
        cleaned, removed = split_params(arg, MAIL_DSN_PARAMS)
        await super().smtp_MAIL(cleaned)
        if self.envelope is not None and self.envelope.mail_from:
            if not hasattr(self.envelope, "x_mail_dsn"):
                self.envelope.x_mail_dsn = removed

    async def smtp_RCPT(self, arg):
        cleaned, removed = split_params(arg, RCPT_DSN_PARAMS)
        before = len(self.envelope.rcpt_tos) if self.envelope else 0
        await super().smtp_RCPT(cleaned)
        if self.envelope is not None and len(self.envelope.rcpt_tos) > before:
            if not hasattr(self.envelope, "x_rcpt_dsn"):
                self.envelope.x_rcpt_dsn = []
            self.envelope.x_rcpt_dsn.append(removed)


class Handler:
    def __init__(self, store, listener, port, implicit_tls):
        self.store = store
        self.listener = listener
        self.port = port
        self.implicit_tls = implicit_tls

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        # insert DSN before the final "250 HELP" line
        return responses[:-1] + ["250-DSN"] + responses[-1:]

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        kind = local_part_kind(address)
        if kind == "tempfail":
            return "451 4.3.0 Temporary failure (test server: tempfail recipient)"
        if kind == "reject":
            return "550 5.1.1 Recipient rejected (test server: reject recipient)"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if any(local_part_kind(r) == "rejectdata" for r in envelope.rcpt_tos):
            return "554 5.6.0 Message rejected (test server: rejectdata recipient)"
        ssl_obj = None
        if server.transport is not None:
            ssl_obj = server.transport.get_extra_info("ssl_object")
        tls = ssl_obj is not None or self.implicit_tls
        auth = session.auth_data if session.authenticated else None
        peer = session.peer
        meta = {
            "listener": self.listener,
            "port": self.port,
            "peer": "%s:%s" % (peer[0], peer[1]) if peer else None,
            "helo": session.host_name,
            "tls": tls,
            "tls_version": ssl_obj.version() if ssl_obj is not None else None,
            "auth": auth,
            "auth_mechanism": auth["mechanism"] if auth else None,
            "auth_user": auth["user"] if auth else None,
            "mail_from": envelope.mail_from,
            "mail_options": list(envelope.mail_options)
            + list(getattr(envelope, "x_mail_dsn", [])),
            "rcpt_tos": list(envelope.rcpt_tos),
            "rcpt_options": list(getattr(envelope, "x_rcpt_dsn", [])),
            "smtputf8": bool(envelope.smtp_utf8),
            "size": len(envelope.original_content or b""),
            "received_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        }
        # flat list of all DSN recipient parameters, handy for assertions
        meta["rcpt_dsn"] = [p for opts in meta["rcpt_options"] for p in opts]
        raw = envelope.original_content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        num = self.store.save(raw, meta)
        LOG.info("stored message %04d from %s to %s via %s",
                 num, envelope.mail_from, envelope.rcpt_tos, self.listener)
        return "250 2.0.0 OK: queued as %04d" % num


def make_authenticator(user, password):
    def authenticator(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        ok = (auth_data.login == user.encode()
              and auth_data.password == password.encode())
        if not ok:
            LOG.info("AUTH %s failed for user %r", mechanism, login)
            # handled=False makes aiosmtpd send 535; the default (True) sends
            # nothing and the client hangs.
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True,
                          auth_data={"mechanism": mechanism, "user": login})
    return authenticator


async def hang_client(reader, writer):
    # Accept, never greet; keep the connection until the client goes away
    # (bounded so that leaked connections do not pile up forever).
    try:
        await asyncio.wait_for(reader.read(), timeout=600)
    except (asyncio.TimeoutError, ConnectionError):
        pass
    finally:
        writer.close()


def tls_context(cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


async def main_async(args):
    store = MailStore(args.outdir)
    loop = asyncio.get_running_loop()
    authenticator = make_authenticator(args.user, args.password)
    servers = []

    def factory(listener, port, implicit_tls, **kw):
        handler = Handler(store, listener, port, implicit_tls)

        def make():
            return RecordingSMTP(
                handler,
                hostname=args.hostname,
                ident="pvenotify test SMTP server",
                enable_SMTPUTF8=True,
                decode_data=False,
                authenticator=authenticator,
                timeout=120,
                data_size_limit=args.data_size_limit,
                **kw,
            )
        return make

    listeners = []
    if args.plain:
        listeners.append(("plain", args.plain, None,
                          dict(auth_require_tls=False)))
    if args.starttls:
        ctx = tls_context(args.cert, args.key)
        listeners.append(("starttls", args.starttls, None,
                          dict(tls_context=ctx, require_starttls=True,
                               auth_require_tls=True)))
    if args.auth_required:
        ctx = tls_context(args.cert, args.key)
        listeners.append(("auth-required", args.auth_required, None,
                          dict(tls_context=ctx, require_starttls=True,
                               auth_require_tls=True, auth_required=True)))
    if args.tls:
        listeners.append(("tls", args.tls, tls_context(args.cert, args.key),
                          dict(auth_require_tls=False)))
    if args.untrusted_tls:
        listeners.append(("untrusted-tls", args.untrusted_tls,
                          tls_context(args.untrusted_cert, args.untrusted_key),
                          dict(auth_require_tls=False)))

    for name, port, wrap_ctx, kw in listeners:
        srv = await loop.create_server(
            factory(name, port, wrap_ctx is not None, **kw),
            host=args.host, port=port, ssl=wrap_ctx, reuse_address=True)
        servers.append(srv)
        LOG.info("listening: %s on %s:%d", name, args.host, port)
    if args.hang:
        srv = await asyncio.start_server(hang_client, host=args.host,
                                         port=args.hang, reuse_address=True)
        servers.append(srv)
        LOG.info("listening: hang on %s:%d", args.host, args.hang)

    if args.pidfile:
        tmp = args.pidfile + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(tmp, args.pidfile)

    await asyncio.gather(*(s.serve_forever() for s in servers))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--hostname", default="mail.test",
                   help="name in the greeting (avoids socket.getfqdn())")
    p.add_argument("--plain", type=int)
    p.add_argument("--starttls", type=int)
    p.add_argument("--auth-required", type=int)
    p.add_argument("--tls", type=int)
    p.add_argument("--untrusted-tls", type=int)
    p.add_argument("--hang", type=int)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--untrusted-cert")
    p.add_argument("--untrusted-key")
    p.add_argument("--user", default="testuser")
    p.add_argument("--password", default="testpass")
    p.add_argument("--outdir", required=True)
    p.add_argument("--pidfile")
    p.add_argument("--data-size-limit", type=int, default=33554432,
                   help="largest DATA accepted, in bytes (0: no limit)")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    try:
        asyncio.run(main_async(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

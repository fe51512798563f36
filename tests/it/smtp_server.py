#!/usr/bin/env python3
"""A scripted SMTP server for the mail tests (aiosmtpd), one per test.

What it answers depends on the recipient's local part, so one server serves a whole test:
  tempfail-N@…   451 for the first N messages to it, then 250
  reject@…       550
  drop-N@…       reads the message, then closes the connection without a reply, N times
  anything else  250
Each event is one JSON line on stdout: {"event": "listening", "port": P} first, then
"accepted", "tempfail", "rejected" or "dropped" with the message parsed by Python's `email`
package (headers as a list, attachments with their SHA-256), so the test asserts on what a
mail client would see.
"""
import argparse
import asyncio
import email
import email.policy
import hashlib
import json
import re
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult

counts = {}


def emit(event, **fields):
    print(json.dumps({"event": event, **fields}), flush=True)


def parse(data):
    msg = email.message_from_bytes(data, policy=email.policy.default)
    attachments = []
    body = None
    for part in msg.walk():
        if part.is_multipart():
            continue
        if part.get_filename():
            payload = part.get_payload(decode=True)
            attachments.append({
                "filename": part.get_filename(),
                "content_type": part.get_content_type(),
                "sha256": hashlib.sha256(payload).hexdigest(),
                "size": len(payload),
            })
        elif body is None:
            body = part.get_content()
    return {
        "headers": [[k, str(v)] for k, v in msg.items()],
        "raw_header_names": [k for k, _ in email.message_from_bytes(data).items()],
        "subject": str(msg["subject"]),
        "message_id": str(msg["message-id"]),
        "to": str(msg["to"]),
        "body": body,
        "attachments": attachments,
    }


class Handler:
    async def handle_DATA(self, server, session, envelope):
        rcpt = envelope.rcpt_tos[0]
        local = rcpt.split("@")[0]
        n = counts.get(rcpt, 0)
        counts[rcpt] = n + 1
        info = dict(parse(envelope.original_content or envelope.content),
                    rcpt=envelope.rcpt_tos, mail_from=envelope.mail_from,
                    tls=session.ssl is not None, auth=session.authenticated)
        m = re.fullmatch(r"tempfail-(\d+)", local)
        if m and n < int(m.group(1)):
            emit("tempfail", **info)
            return "451 4.3.0 try again later"
        if local == "reject":
            emit("rejected", **info)
            return "550 5.1.1 no such user here"
        m = re.fullmatch(r"drop-(\d+)", local)
        if m and n < int(m.group(1)):
            emit("dropped", **info)
            server.transport.abort()
            return "421 closing"
        emit("accepted", **info)
        return "250 2.0.0 OK"


def authenticator(expected):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login.decode(), auth_data.password.decode()) == expected
        emit("auth", ok=ok, mechanism=mechanism)
        return AuthResult(success=ok)
    return check


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--auth", help="user:password; AUTH then required")
    a = p.parse_args()
    kwargs = {"data_size_limit": 64 * 1024 * 1024, "decode_data": False}
    if a.cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.cert, a.key)
        kwargs.update(tls_context=ctx, require_starttls=True)
    if a.auth:
        user, password = a.auth.split(":", 1)
        kwargs.update(authenticator=authenticator((user, password)), auth_required=True,
                      auth_require_tls=bool(a.cert))
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Handler(), **kwargs), "127.0.0.1", a.port)
    emit("listening", port=server.sockets[0].getsockname()[1])
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)

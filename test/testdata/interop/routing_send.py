#!/usr/bin/env python3
"""Send one message with Python's smtplib and report what the server said.

usage: routing_send.py HOST PORT FROM TO[,TO...] SUBJECT
                       [--auth USER PASSWORD] [--starttls]
                       [--header "Name: value"]... [--body TEXT]
                       [--source ADDRESS]

The routing system tests use it to drive the server the way an ordinary
mail client or MTA does. It prints one line per outcome and exits 0 when
the dialog ended in SMTP answers, so the Go test can check refusals too:

  SENT <code> <text>              DATA answered 2xx (after any PARTIAL lines)
  PARTIAL <to> <code> <text>      a refused recipient when others were accepted
  REFUSED <to> <code> <text>      a refused recipient when none was accepted
  SENDER-REFUSED <code> <text>    MAIL FROM refused
  DATA-REFUSED <code> <text>      the message refused after DATA
  AUTH-FAILED <code> <text>       login refused
  DISCONNECTED                    the server closed the connection

Anything else (no connection, a protocol error, a timeout) exits non-zero.

MAIL and RCPT go out through SMTP.docmd with the address in angle brackets
exactly as given: smtplib's own sendmail() runs addresses through
email.utils.parseaddr, which reads "sub:code@host" or "local:user@host" as
an RFC 5322 group and sends only the group name.
"""

import argparse
import email.utils
import smtplib
import ssl
import sys


def text(b):
    if isinstance(b, bytes):
        return b.decode("utf-8", "replace")
    return str(b)


def build(args):
    named = {h.split(":", 1)[0].strip().lower() for h in args.header}
    lines = []
    if "from" not in named:
        lines.append("From: <%s>" % args.sender if args.sender else "From: Mailer <mailer-daemon@example.org>")
    if "to" not in named:
        lines.append("To: " + ", ".join("<%s>" % t for t in args.to))
    lines += [
        "Subject: " + args.subject,
        "Date: " + email.utils.formatdate(localtime=True),
        "Message-ID: " + email.utils.make_msgid(domain="client.example"),
    ]
    lines += args.header
    body = args.body.replace("\\n", "\r\n")
    return "\r\n".join(lines) + "\r\n\r\n" + body + "\r\n"


def transaction(s, args):
    code, resp = s.docmd("MAIL", "FROM:<%s>" % args.sender)
    if code // 100 != 2:
        print("SENDER-REFUSED %d %s" % (code, text(resp)))
        return
    accepted, refused = [], []
    for rcpt in args.to:
        code, resp = s.docmd("RCPT", "TO:<%s>" % rcpt)
        if code // 100 == 2:
            accepted.append(rcpt)
        else:
            refused.append((rcpt, code, text(resp)))
    if not accepted:
        for rcpt, code, resp in refused:
            print("REFUSED %s %d %s" % (rcpt, code, resp))
        try:
            s.rset()
        except smtplib.SMTPServerDisconnected:
            pass  # a relay refusal ends the session
        return
    try:
        code, resp = s.data(build(args).encode("utf-8"))
    except smtplib.SMTPDataError as e:
        print("DATA-REFUSED %d %s" % (e.smtp_code, text(e.smtp_error)))
        return
    if code // 100 != 2:
        print("DATA-REFUSED %d %s" % (code, text(resp)))
        return
    for rcpt, c, resp in refused:
        print("PARTIAL %s %d %s" % (rcpt, c, resp))
    print("SENT %d %s" % (code, text(resp)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("sender")
    p.add_argument("to")
    p.add_argument("subject")
    p.add_argument("--auth", nargs=2, metavar=("USER", "PASSWORD"))
    p.add_argument("--starttls", action="store_true")
    p.add_argument("--header", action="append", default=[])
    p.add_argument("--body", default="Routing test body.")
    p.add_argument("--timeout", type=float, default=20)
    p.add_argument("--source", help="local address to connect from (a loopback address)")
    args = p.parse_args()
    args.to = [t for t in args.to.split(",") if t]

    source = (args.source, 0) if args.source else None
    s = smtplib.SMTP(args.host, args.port, local_hostname="client.example", timeout=args.timeout,
                     source_address=source)
    try:
        s.ehlo()
        if args.starttls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s.starttls(context=ctx)
            s.ehlo()
        if args.auth:
            try:
                s.login(args.auth[0], args.auth[1])
            except smtplib.SMTPAuthenticationError as e:
                print("AUTH-FAILED %d %s" % (e.smtp_code, text(e.smtp_error)))
                return 0
        transaction(s, args)
    except smtplib.SMTPServerDisconnected:
        print("DISCONNECTED")
        return 0
    finally:
        try:
            s.quit()
        except (smtplib.SMTPServerDisconnected, OSError):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""SMTP clients from a chosen local address, for the anti-spam tests.

usage: antispam_clients.py ACTION HOST PORT SOURCE [ARGS...]

SOURCE is the local address the client connects from (127.0.0.2 is on
loopback but is not the server's own 127.0.0.1).

ACTIONS
  send FROM TO[,TO...] SUBJECT BODY
        sends one message with smtplib (BODY's "\\n" become line breaks) and
        prints "SENT <code>" for the reply to the final dot, or
        "REFUSED <code> <reply>" when the server refused a step
  greet prints "<code> <text>" for the greeting, or "CLOSED" when the
        server hangs up without a word
"""

import smtplib
import sys


def text(b):
    return b.decode("latin-1") if isinstance(b, bytes) else str(b)


def send(host, port, source, sender, rcpts, subject, body):
    s = smtplib.SMTP(host, port, timeout=30, source_address=(source, 0))
    try:
        s.ehlo("client.example")
        msg = "From: <%s>\r\nTo: %s\r\nSubject: %s\r\n\r\n%s\r\n" % (
            sender, ", ".join("<%s>" % r for r in rcpts), subject, body.replace("\\n", "\r\n"))
        code, resp = s.mail(sender)
        if code != 250:
            return "REFUSED %d %s" % (code, text(resp))
        for r in rcpts:
            code, resp = s.rcpt(r)
            if code not in (250, 251):
                return "REFUSED %d %s" % (code, text(resp))
        code, resp = s.data(msg.encode("utf-8"))
        if code != 250:
            return "REFUSED %d %s" % (code, text(resp))
        return "SENT %d" % code
    finally:
        try:
            s.quit()
        except smtplib.SMTPException:
            s.close()


def greet(host, port, source):
    s = smtplib.SMTP(timeout=30, source_address=(source, 0))
    try:
        code, resp = s.connect(host, port)
    except smtplib.SMTPServerDisconnected:
        return "CLOSED"
    s.close()
    return "%d %s" % (code, text(resp))


def main(argv):
    if len(argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    action, host, port, source = argv[1], argv[2], int(argv[3]), argv[4]
    rest = argv[5:]
    if action == "send":
        out = send(host, port, source, rest[0], rest[1].split(","), rest[2], rest[3])
    elif action == "greet":
        out = greet(host, port, source)
    else:
        print("unknown action " + action, file=sys.stderr)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

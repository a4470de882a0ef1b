#!/usr/bin/env python3
"""Mail clients from a chosen local address, for the failed-login tests.

usage: guard_clients.py ACTION HOST PORT SOURCE [ARGS...]

SOURCE is the local address the client connects from (127.0.0.2 is on
loopback but is not the server's own 127.0.0.1).

ACTIONS
  pop3-login USER PASSWORD   USER/PASS with poplib; prints "OK <n> messages"
                             or "ERR <reply>"
  pop3-stls-login USER PASSWORD
                             STLS (certificate not checked), then USER/PASS;
                             prints like pop3-login
  pop3-greet                 prints "OK <greeting>" or "ERR <reply>"
  smtp-greet                 prints "OK <code>" for the greeting, or
                             "CLOSED" when the server hangs up without a word
  smtp-noop N                EHLO, then N NOOPs with smtplib; prints the
                             reply codes, stopping after a 421
"""

import poplib
import smtplib
import socket
import ssl
import sys


class POP3From(poplib.POP3):
    """poplib's client bound to a local address."""

    def __init__(self, host, port, source):
        self.source = source
        super().__init__(host, port, timeout=30)

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout, source_address=(self.source, 0))


def text(b):
    return b.decode("latin-1") if isinstance(b, bytes) else str(b)


def pop3_login(host, port, source, user, password, stls=False):
    try:
        p = POP3From(host, port, source)
        if stls:
            # The test server's certificate is self-signed.
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            p.stls(context=ctx)
        p.user(user)
        p.pass_(password)
        n, _ = p.stat()
        p.quit()
        return "OK %d messages" % n
    except poplib.error_proto as e:
        return "ERR " + text(e.args[0])


def pop3_greet(host, port, source):
    try:
        p = POP3From(host, port, source)
        welcome = text(p.getwelcome())
        p.quit()
        return "OK " + welcome
    except poplib.error_proto as e:
        return "ERR " + text(e.args[0])


def smtp_greet(host, port, source):
    s = smtplib.SMTP(timeout=30, source_address=(source, 0))
    try:
        code, _ = s.connect(host, port)
    except smtplib.SMTPServerDisconnected:
        return "CLOSED"
    s.quit()
    return "OK %d" % code


def smtp_noop(host, port, source, n):
    s = smtplib.SMTP(host, port, timeout=30, source_address=(source, 0))
    codes = [str(s.ehlo()[0])]
    for _ in range(n):
        code, _ = s.noop()
        codes.append(str(code))
        if code == 421:
            break
    try:
        s.close()
    except OSError:
        pass
    return " ".join(codes)


def main(argv):
    if len(argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    action, host, port, source = argv[1], argv[2], int(argv[3]), argv[4]
    rest = argv[5:]
    if action == "pop3-login":
        out = pop3_login(host, port, source, rest[0], rest[1])
    elif action == "pop3-stls-login":
        out = pop3_login(host, port, source, rest[0], rest[1], stls=True)
    elif action == "pop3-greet":
        out = pop3_greet(host, port, source)
    elif action == "smtp-greet":
        out = smtp_greet(host, port, source)
    elif action == "smtp-noop":
        out = smtp_noop(host, port, source, int(rest[0]))
    else:
        print("unknown action " + action, file=sys.stderr)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

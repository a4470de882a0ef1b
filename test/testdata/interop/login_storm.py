#!/usr/bin/env python3
"""Many logins at once, for the login-limit tests.

usage: login_storm.py PROTO HOST PORT SOURCES N USER WRONG [RIGHT]

PROTO is smtp (EHLO, then AUTH PLAIN with smtplib) or pop3 (USER, then
PASS with poplib). N connections are opened and made ready first; then
every connection sends a wrong password at the same moment: connection i
sends WRONG-i, so that none is a repeat (which the server would not count
again). SOURCES is
"one:A" (every connection from local address A) or "many:A" (connection i
from A + i, so 127.0.0.10 gives 127.0.0.10, 127.0.0.11, ...).

With RIGHT, one more connection is made ready with the others, and sends
RIGHT once every wrong password has been answered.

Prints one line: "wrong" and how many connections got each answer (the
SMTP code, or "ERR"/"OK" for POP3, "CLOSED" when the server hung up), then
with RIGHT "right" and the answer to it, e.g. "wrong 535x79 right 535".
"""

import base64
import collections
import ipaddress
import poplib
import smtplib
import socket
import sys
import threading


class POP3From(poplib.POP3):
    """poplib's client bound to a local address."""

    def __init__(self, host, port, source):
        self.source = source
        super().__init__(host, port, timeout=300)

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout, source_address=(self.source, 0))


def sources(spec, n):
    kind, first = spec.split(":", 1)
    if kind == "one":
        return [first] * n
    base = ipaddress.ip_address(first)
    return [str(base + i) for i in range(n)]


class SMTPClient:
    def __init__(self, host, port, source, user):
        self.user = user
        self.s = smtplib.SMTP(host, port, timeout=300, source_address=(source, 0))
        self.s.ehlo("storm.example")

    def login(self, password):
        token = base64.b64encode(("\0%s\0%s" % (self.user, password)).encode()).decode()
        try:
            code, _ = self.s.docmd("AUTH", "PLAIN " + token)
        except (smtplib.SMTPServerDisconnected, OSError):
            return "CLOSED"
        finally:
            try:
                self.s.close()
            except OSError:
                pass
        return str(code)


class POP3Client:
    def __init__(self, host, port, source, user):
        self.p = POP3From(host, port, source)
        self.p.user(user)

    def login(self, password):
        try:
            self.p.pass_(password)
            self.p.quit()
            return "OK"
        except poplib.error_proto:
            return "ERR"
        except (EOFError, OSError):
            return "CLOSED"
        finally:
            try:
                self.p.close()
            except OSError:
                pass


def summary(answers):
    counts = collections.Counter(answers)
    return " ".join("%sx%d" % (k, counts[k]) for k in sorted(counts))


def main(argv):
    if len(argv) < 8:
        print(__doc__, file=sys.stderr)
        return 2
    proto, host, port, spec, n, user, wrong = argv[1:8]
    right = argv[8] if len(argv) > 8 else None
    port, n = int(port), int(n)
    make = SMTPClient if proto == "smtp" else POP3Client
    total = n + (1 if right is not None else 0)
    clients = [make(host, port, src, user) for src in sources(spec, total)]
    last = clients.pop() if right is not None else None

    answers = [None] * n
    start = threading.Barrier(n)

    def run(i):
        start.wait()
        answers[i] = clients[i].login("%s-%d" % (wrong, i))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out = "wrong " + summary(answers)
    if last is not None:
        out += " right " + last.login(right)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

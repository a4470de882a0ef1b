#!/usr/bin/env python3
"""A mail client logs in by POP3 with Python's poplib.

usage: core_pop3.py HOST PORT MODE LOGIN PASSWORD WANT

MODE is how the client connects and logs in:
  plain  USER/PASS on the plain port
  stls   CAPA must offer STLS; STLS, then USER/PASS inside TLS
  ssl    POP3 over TLS from the first byte (port 995), USER/PASS
  apop   APOP with the greeting's timestamp (the password never travels)
WANT is the number of messages STAT must show after login, "refused" when
the login must fail, or "in-use" when it must be refused because another
session has the mailbox open.

Prints "LOGIN <mode> <login>: <n> messages" or "REFUSED <reply>"; exits 1
with a reason when the outcome is not WANT.
"""

import poplib
import ssl
import sys
import time


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def connect(host, port, mode):
    if mode == "ssl":
        p = poplib.POP3_SSL(host, port, timeout=30, context=context())
        if not p.getwelcome().startswith(b"+OK"):
            fail("greeting over TLS: %r" % p.getwelcome())
        return p
    p = poplib.POP3(host, port, timeout=30)
    if mode == "stls":
        caps = p.capa()
        if "STLS" not in caps:
            fail("CAPA does not offer STLS: %r" % caps)
        p.stls(context=context())
        if not isinstance(p.sock, ssl.SSLSocket):
            fail("STLS did not start TLS")
    return p


def login(p, mode, user, password):
    if mode == "apop":
        if b"<" not in p.getwelcome():
            fail("greeting has no APOP timestamp: %r" % p.getwelcome())
        p.apop(user, password)
    else:
        p.user(user)
        p.pass_(password)


def main():
    if len(sys.argv) != 7:
        fail(__doc__)
    host, port, mode, user, password, want = sys.argv[1:]
    if mode not in ("plain", "stls", "ssl", "apop"):
        fail("unknown mode " + mode)
    deadline = time.monotonic() + 15
    while True:
        p = connect(host, int(port), mode)
        try:
            login(p, mode, user, password)
            break
        except poplib.error_proto as e:
            reply = e.args[0]
            p.close()
            if want == "in-use":
                if b"[IN-USE]" not in reply:
                    fail("%s login as %r: %r, want [IN-USE]" % (mode, user, reply))
                print("IN-USE " + reply.decode("utf-8", "replace"))
                return
            # An earlier session of the same user may still be closing.
            if b"IN-USE" in reply and time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            if want == "refused":
                print("REFUSED " + reply.decode("utf-8", "replace"))
                return
            fail("%s login as %r: %r" % (mode, user, reply))
    if want in ("refused", "in-use"):
        fail("%s login as %r succeeded, want %s" % (mode, user, want))
    count, _ = p.stat()
    p.quit()
    print("LOGIN %s %s: %d messages" % (mode, user, count))
    if count != int(want):
        fail("STAT after %s login as %r: %d messages, want %s" % (mode, user, count, want))


if __name__ == "__main__":
    main()

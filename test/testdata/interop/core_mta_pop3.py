#!/usr/bin/env python3
"""An MTA delivers on port 25; a mail client fetches the message by POP3.

usage: core_mta_pop3.py HOST SMTP_PORT POP3_PORT RCPT LOGIN PASSWORD

Checks, with Python's smtplib and poplib only:
  - the message is accepted on the SMTP port (no recipient refused);
  - POP3 shows exactly one message whose LIST size is the octet count
    RETR delivers;
  - the retrieved text is the sent text, byte for byte, after trace fields
    the server put on top, and those include Return-Path and Received;
  - UIDL gives the same id in two sessions;
  - DELE followed by a dropped connection (no QUIT) deletes nothing;
  - DELE followed by QUIT deletes: the next session finds 0 messages.

Prints one line per step and exits 1 with a reason on the first failure.
"""

import poplib
import smtplib
import sys
import time

SENDER = "joe@example.org"


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def message(rcpt):
    header = [
        b"From: Joe Example <joe@example.org>",
        b"To: <" + rcpt.encode() + b">",
        b"Subject: byte-exact check",
        b"Date: Sun, 22 Nov 2026 10:00:00 +0000",
        b"Message-ID: <core-mta-pop3.1@example.org>",
        b"MIME-Version: 1.0",
        b"Content-Type: text/plain; charset=utf-8",
        b"Content-Transfer-Encoding: 8bit",
    ]
    body = [
        b"First line",
        b".starts with a dot",
        b"..starts with two dots",
        b".",
        b"",
        b"trailing spaces   ",
        b"\tindented with a tab",
        "Grüße aus Köln".encode("utf-8"),
        b"x" * 998,
        b"From the middle of a line start",
        b"last line",
    ]
    return header, body


def pop3_login(host, port, login, password):
    """Log in, retrying while an earlier session still holds the mailbox."""
    deadline = time.monotonic() + 15
    while True:
        p = poplib.POP3(host, port, timeout=30)
        p.user(login)
        try:
            p.pass_(password)
            return p
        except poplib.error_proto as e:
            p.close()
            if b"IN-USE" not in e.args[0] or time.monotonic() > deadline:
                fail("POP3 login as %r: %r" % (login, e.args[0]))
            time.sleep(0.05)


def uidl_of_one(p):
    resp, lines, _ = p.uidl()
    if len(lines) != 1:
        fail("UIDL lists %d messages, want 1: %r" % (len(lines), lines))
    return lines[0].split(None, 1)[1]


def check_text(p, header, body):
    resp, lst, _ = p.list()
    if len(lst) != 1:
        fail("LIST shows %d messages, want 1: %r" % (len(lst), lst))
    size = int(lst[0].split()[1])
    resp, lines, octets = p.retr(1)
    if size != octets:
        fail("LIST says %d octets, RETR delivered %d" % (size, octets))
    if b"" not in lines:
        fail("retrieved message has no header/body separator")
    cut = lines.index(b"")
    got_header, got_body = lines[:cut], lines[cut + 1:]
    if got_body != body:
        for i, (g, w) in enumerate(zip(got_body, body)):
            if g != w:
                fail("body line %d differs: got %r, want %r" % (i + 1, g, w))
        fail("body has %d lines, want %d" % (len(got_body), len(body)))
    if got_header[-len(header):] != header:
        fail("sent header lines are not kept as sent:\n%r" % got_header)
    trace = got_header[:-len(header)]
    names = [h.split(b":", 1)[0].lower() for h in trace if not h[:1].isspace()]
    if b"return-path" not in names:
        fail("no Return-Path header: %r" % trace)
    if b"received" not in names:
        fail("no Received header: %r" % trace)
    rp = [h for h in trace if h.lower().startswith(b"return-path:")][0]
    if b"<" + SENDER.encode() + b">" not in rp:
        fail("Return-Path is %r, want <%s>" % (rp, SENDER))
    print("RETR ok: %d octets, trace fields %r" % (octets, [n.decode() for n in names]))


def main():
    if len(sys.argv) != 7:
        fail(__doc__)
    host, sport, pport, rcpt, login, password = sys.argv[1:]
    header, body = message(rcpt)
    text = b"\r\n".join(header) + b"\r\n\r\n" + b"\r\n".join(body) + b"\r\n"

    with smtplib.SMTP(host, int(sport), timeout=30) as s:
        refused = s.sendmail(SENDER, [rcpt], text)
        if refused:
            fail("recipients refused: %r" % refused)
    print("SMTP delivered to " + rcpt)

    p = pop3_login(host, int(pport), login, password)
    count, _ = p.stat()
    if count != 1:
        fail("STAT shows %d messages, want 1" % count)
    check_text(p, header, body)
    uid1 = uidl_of_one(p)
    p.quit()

    p = pop3_login(host, int(pport), login, password)
    uid2 = uidl_of_one(p)
    if uid1 != uid2:
        fail("UIDL changed between sessions: %r then %r" % (uid1, uid2))
    print("UIDL stable: %s" % uid1.decode())
    p.dele(1)
    p.sock.close()  # the connection drops before QUIT
    p.file.close()

    p = pop3_login(host, int(pport), login, password)
    count, _ = p.stat()
    if count != 1:
        fail("after DELE without QUIT, STAT shows %d messages, want 1" % count)
    if uidl_of_one(p) != uid1:
        fail("UIDL changed after a dropped session")
    print("DELE without QUIT deleted nothing")
    p.dele(1)
    count, _ = p.stat()
    if count != 0:
        fail("after DELE, STAT in the same session shows %d, want 0" % count)
    p.quit()

    p = pop3_login(host, int(pport), login, password)
    count, _ = p.stat()
    if count != 0:
        fail("after DELE and QUIT, STAT shows %d messages, want 0" % count)
    p.quit()
    print("DELE took effect at QUIT")


if __name__ == "__main__":
    main()

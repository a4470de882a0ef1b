#!/usr/bin/env python3
"""Sender checks seen by Python's smtplib.

usage:
  core_senders.py auth HOST PORT LOGIN PASSWORD OWN OTHER SYSOP LOCAL_RCPT FOREIGN
  core_senders.py unauth HOST PORT LOCAL_RCPT SYSOP

auth: log in (STARTTLS first when the port offers it), then
  - a message from OWN (From and envelope) is accepted;
  - MAIL FROM:<OTHER> and MAIL FROM:<SYSOP> are answered 550;
  - From: OTHER, From: "The Sysop" <SYSOP>, and From: OWN with
    Sender: OTHER are each answered 550 at the end of DATA;
  - From: FOREIGN (the user may relay, ALLOW_RELAY is on) is accepted.
unauth: without AUTH, From: "SYSOP" <spammer@evil.example> is answered 554
  at the end of DATA; the same message with a plain display name is
  accepted.

Subjects of accepted messages start with "accepted:". Prints one line per
step; exits 1 with a reason on the first failure.
"""

import smtplib
import ssl
import sys


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def connect(host, port):
    s = smtplib.SMTP(host, port, timeout=30)
    s.ehlo("client.example")
    if s.has_extn("starttls"):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s.starttls(context=ctx)
        s.ehlo("client.example")
    return s


def message(from_field, rcpt, subject, sender=None):
    head = "From: %s\r\n" % from_field
    if sender:
        head += "Sender: %s\r\n" % sender
    return head + "To: <%s>\r\nSubject: %s\r\n\r\nbody\r\n" % (rcpt, subject)


def expect_data(s, env_from, rcpt, msg, want, what):
    try:
        s.sendmail(env_from, [rcpt], msg)
        code, resp = 250, b"accepted"
    except smtplib.SMTPDataError as e:
        code, resp = e.smtp_code, e.smtp_error
        s.rset()
    if code != want:
        fail("%s: got %d %r, want %d" % (what, code, resp, want))
    print("%s: %d %s" % (what, code, resp.decode()))


def auth(host, port, login, password, own, other, sysop, local, foreign):
    s = connect(host, port)
    s.login(login, password)
    expect_data(s, own, local, message("<%s>" % own, local, "accepted: own address"), 250, "own From")
    for addr in (other, sysop):
        code, resp = s.mail(addr)
        if code != 550:
            fail("MAIL FROM:<%s>: got %d %r, want 550" % (addr, code, resp))
        print("MAIL FROM:<%s>: %d %s" % (addr, code, resp.decode()))
        s.rset()
    expect_data(s, own, local, message("<%s>" % other, local, "other user"), 550, "From another user")
    expect_data(s, own, local, message('"The Sysop" <%s>' % sysop, local, "sysop"), 550, "From the sysop")
    expect_data(s, own, local, message("<%s>" % own, local, "sender", sender="<%s>" % other), 550,
                "Sender another user")
    expect_data(s, own, local, message("Me <%s>" % foreign, local, "accepted: foreign domain"), 250,
                "From a foreign domain with the relay right")
    s.quit()


def unauth(host, port, local, sysop):
    s = smtplib.SMTP(host, port, timeout=30)
    s.ehlo("client.example")
    expect_data(s, "spammer@evil.example", local,
                message('"%s" <spammer@evil.example>' % sysop, local, "forged name"), 554,
                "display name forging a local address")
    expect_data(s, "spammer@evil.example", local,
                message('"Joe Spammer" <spammer@evil.example>', local, "accepted: plain name"), 250,
                "plain display name")
    s.quit()


def main():
    cmds = {"auth": (auth, 9), "unauth": (unauth, 4)}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds or len(sys.argv) != cmds[sys.argv[1]][1] + 2:
        fail(__doc__)
    fn, _ = cmds[sys.argv[1]]
    args = sys.argv[2:]
    args[1] = int(args[1])
    fn(*args)


if __name__ == "__main__":
    main()

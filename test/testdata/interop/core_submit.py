#!/usr/bin/env python3
"""A mail client submits mail with Python's smtplib.

usage:
  core_submit.py starttls HOST PORT LOGIN PASSWORD OWN_ADDR OTHER_ADDR LOCAL_RCPT EXTERNAL_RCPT
  core_submit.py implicit HOST PORT LOGIN PASSWORD OWN_ADDR LOCAL_RCPT
  core_submit.py badauth  HOST PORT LOGIN PASSWORD

starttls (port 587):
  - STARTTLS is offered and works; afterwards AUTH offers PLAIN, LOGIN
    and CRAM-MD5;
  - MAIL before AUTH is answered 530;
  - AUTH PLAIN, AUTH LOGIN and AUTH CRAM-MD5 each log in (235) and send a
    message from OWN_ADDR to LOCAL_RCPT, subject "submitted with <MECH>";
  - MAIL FROM another user's address (OTHER_ADDR) and from a foreign
    address are answered 550;
  - a message to EXTERNAL_RCPT is accepted (it goes to the outbound queue).
implicit (port 465): TLS from the first byte, login, send one message with
  subject "submitted over implicit TLS".
badauth: a wrong password (AUTH PLAIN after STARTTLS) is answered 535.

Prints one line per step; exits 1 with a reason on the first failure.
"""

import smtplib
import ssl
import sys


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def message(sender, rcpt, subject):
    return ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n\r\nbody of %s\r\n"
            % (sender, rcpt, subject, subject))


def tls_session(host, port):
    s = smtplib.SMTP(host, port, timeout=30)
    s.ehlo("client.example")
    if not s.has_extn("starttls"):
        fail("EHLO on %d does not offer STARTTLS: %r" % (port, s.esmtp_features))
    code, resp = s.starttls(context=context())
    if code != 220:
        fail("STARTTLS: %d %r" % (code, resp))
    s.ehlo("client.example")
    return s


def starttls(host, port, login, password, own, other, local, external):
    s = tls_session(host, port)
    mechs = s.esmtp_features.get("auth", "").upper().split()
    for m in ("PLAIN", "LOGIN", "CRAM-MD5"):
        if m not in mechs:
            fail("AUTH after STARTTLS does not offer %s: %r" % (m, mechs))
    code, resp = s.mail(own)
    if code != 530:
        fail("MAIL before AUTH: got %d %r, want 530" % (code, resp))
    print("MAIL before AUTH: %d %s" % (code, resp.decode()))
    s.quit()

    for mech, fn in (("PLAIN", "auth_plain"), ("LOGIN", "auth_login"), ("CRAM-MD5", "auth_cram_md5")):
        s = tls_session(host, port)
        s.user, s.password = login, password
        code, resp = s.auth(mech, getattr(s, fn))
        if code != 235:
            fail("AUTH %s: %d %r" % (mech, code, resp))
        subject = "submitted with " + mech
        refused = s.sendmail(own, [local], message(own, local, subject))
        if refused:
            fail("AUTH %s: recipients refused: %r" % (mech, refused))
        s.quit()
        print("AUTH %s: %d, sent %r" % (mech, code, subject))

    s = tls_session(host, port)
    s.login(login, password)
    for addr in (other, "joe@example.org"):
        code, resp = s.mail(addr)
        if code != 550:
            fail("MAIL FROM:<%s> after AUTH as %s: got %d %r, want 550" % (addr, login, code, resp))
        print("MAIL FROM:<%s>: %d %s" % (addr, code, resp.decode()))
        s.rset()
    refused = s.sendmail(own, [external], message(own, external, "to the outside"))
    if refused:
        fail("relay after AUTH refused: %r" % refused)
    print("relayed to " + external)
    s.quit()


def implicit(host, port, login, password, own, local):
    s = smtplib.SMTP_SSL(host, port, timeout=30, context=context())
    s.ehlo("client.example")
    if s.has_extn("starttls"):
        fail("STARTTLS offered inside implicit TLS")
    s.login(login, password)
    subject = "submitted over implicit TLS"
    refused = s.sendmail(own, [local], message(own, local, subject))
    if refused:
        fail("recipients refused: %r" % refused)
    s.quit()
    print("implicit TLS: sent %r as %s" % (subject, login))


def badauth(host, port, login, password):
    # One mechanism only: after a failed AUTH the server closes the
    # connection (as Synchronet does), so smtplib.login's fallback to the
    # next mechanism would meet a closed socket.
    s = tls_session(host, port)
    s.user, s.password = login, password
    try:
        code, resp = s.auth("PLAIN", s.auth_plain)
    except smtplib.SMTPAuthenticationError as e:
        code, resp = e.smtp_code, e.smtp_error
    if code != 535:
        fail("wrong password: got %d %r, want 535" % (code, resp))
    print("wrong password: %d %s" % (code, resp.decode()))


def main():
    cmds = {"starttls": (starttls, 8), "implicit": (implicit, 6), "badauth": (badauth, 4)}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds or len(sys.argv) != cmds[sys.argv[1]][1] + 2:
        fail(__doc__)
    fn, _ = cmds[sys.argv[1]]
    args = sys.argv[2:]
    args[1] = int(args[1])
    fn(*args)


if __name__ == "__main__":
    main()

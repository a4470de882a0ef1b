#!/usr/bin/env python3
"""Send one message, optionally DKIM-signed by dkimpy, from a chosen local
address, for the mail authentication tests.

usage: mailauth_send.py HOST PORT SOURCE MAILFROM RCPT MSGFILE [KEYFILE SELECTOR DOMAIN [ALTER]]

MSGFILE is the message (CRLF line ends). With KEYFILE (a PEM RSA private
key) it is signed relaxed/relaxed as DOMAIN with SELECTOR; ALTER "body" or
"header" then changes the body or the Subject after signing. An empty
MAILFROM is the null reverse path. Prints "SENT <code>" for the reply to
the final dot, or "REFUSED <code> <reply>".
"""

import smtplib
import sys

import dkim


def text(b):
    return b.decode("latin-1") if isinstance(b, bytes) else str(b)


def main(argv):
    host, port, source, mailfrom, rcpt, msgfile = argv[1:7]
    msg = open(msgfile, "rb").read()
    if len(argv) > 7:
        key = open(argv[7], "rb").read()
        sig = dkim.sign(msg, argv[8].encode(), argv[9].encode(), key,
                        canonicalize=(b"relaxed", b"relaxed"),
                        include_headers=[b"from", b"to", b"subject"])
        msg = sig + msg
        alter = argv[10] if len(argv) > 10 else ""
        if alter == "body":
            msg = msg + b"Added after signing.\r\n"
        elif alter == "header":
            msg = msg.replace(b"Subject: ", b"Subject: Re: ", 1)
    s = smtplib.SMTP(host, int(port), timeout=30, source_address=(source, 0))
    try:
        s.ehlo("client.example")
        code, resp = s.mail(mailfrom)
        if code != 250:
            return "REFUSED %d %s" % (code, text(resp))
        code, resp = s.rcpt(rcpt)
        if code not in (250, 251):
            return "REFUSED %d %s" % (code, text(resp))
        try:
            code, resp = s.data(msg)
        except smtplib.SMTPDataError as e:
            code, resp = e.smtp_code, e.smtp_error
        if code != 250:
            return "REFUSED %d %s" % (code, text(resp))
        return "SENT %d" % code
    finally:
        try:
            s.quit()
        except smtplib.SMTPException:
            s.close()


print(main(sys.argv))

"""Send one message with Python's smtplib: EHLO, STARTTLS, AUTH PLAIN,
two recipients. Usage: smtp_send.py HOST PORT CAFILE MESSAGEFILE"""
import smtplib
import ssl
import sys


def main():
    host, port, cafile, msgfile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    with open(msgfile, "rb") as f:
        msg = f.read()
    ctx = ssl.create_default_context(cafile=cafile)
    with smtplib.SMTP(host, port, local_hostname="interop.example", timeout=20) as s:
        s.ehlo()
        if not s.has_extn("starttls"):
            sys.exit("no STARTTLS offered")
        s.starttls(context=ctx)  # verified against the 127.0.0.1 IP SAN
        s.ehlo()
        if "PLAIN" not in s.esmtp_features.get("auth", "").split():
            sys.exit("no AUTH PLAIN offered")
        s.user, s.password = "sysop", "Secret1"
        code, text = s.auth("PLAIN", s.auth_plain)
        if code != 235:
            sys.exit("AUTH: %d %r" % (code, text))
        refused = s.sendmail("sysop@bbs.example", ["guest@bbs.example", "friend@elsewhere.example"],
                             msg, mail_options=["BODY=8BITMIME"])
        if refused:
            sys.exit("refused: %r" % refused)
    print("sent")


if __name__ == "__main__":
    main()

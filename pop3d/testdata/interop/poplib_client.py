"""Drives bbsmail's POP3 server with Python's poplib, an independent client.

Usage: poplib_client.py HOST PORT TLSPORT CAFILE
PORT offers STLS; TLSPORT is implicit TLS (the port 995 mode). The
mailboxes are the Go test's fixture. Exits non-zero on the first surprise.
"""
import poplib
import ssl
import sys


def expect(what, got, want):
    if got != want:
        sys.exit(f"{what}: got {got!r}, want {want!r}")


def main():
    host, port, tls_port, cafile = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    ctx = ssl.create_default_context(cafile=cafile)

    # USER/PASS and the TRANSACTION commands on the plain port.
    p = poplib.POP3(host, port, timeout=10)
    p.user("joe")
    expect("pass_", p.pass_("Secret Word"), b"+OK joe has 3 messages (161 octets)")
    expect("stat", p.stat(), (3, 161))
    expect("list", p.list()[1], [b"1 49", b"2 51", b"3 61"])
    expect("uidl", p.uidl()[1], [b"1 7", b"2 9", b"3 12"])
    expect("uidl 3", p.uidl(3), b"+OK 3 12")
    resp, lines, octets = p.retr(3)
    expect("retr 3", lines, [b"Subject: dots", b"", b"line 1", b".hidden dot", b"line 3", b"..two", b"line 5"])
    expect("retr 3 octets", octets, 61)
    expect("top 3 1", p.top(3, 1)[1], [b"Subject: dots", b"", b"line 1"])
    p.dele(2)
    expect("stat after dele", p.stat(), (2, 110))
    p.quit()

    # APOP: poplib digests the greeting's timestamp with the secret.
    p = poplib.POP3(host, port, timeout=10)
    p.apop("joe", "Secret Word")
    expect("stat after quit", p.stat(), (2, 110))
    p.quit()

    # STLS, then a login over TLS.
    p = poplib.POP3(host, port, timeout=10)
    expect("STLS offered", "STLS" in p.capa(), True)
    p.stls(ctx)
    expect("STLS gone after TLS", "STLS" in p.capa(), False)
    p.user("alice")
    p.pass_("wonderland")
    expect("retr over STLS", p.retr(2)[1], [b"Subject: keep", b"", b"stay"])
    p.quit()

    # Implicit TLS.
    p = poplib.POP3_SSL(host, tls_port, context=ctx, timeout=10)
    expect("greeting", p.getwelcome().startswith(b"+OK bbs.test bbsmail POP3S Server"), True)
    p.user("alice")
    p.pass_("wonderland")
    expect("stat over POP3S", p.stat(), (3, 76))
    p.quit()
    print("poplib interop ok")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Verify the first DKIM signature of a message with dkimpy.

usage: dkim_verify.py MESSAGE-FILE DNS-HOST:PORT

The key record is looked up with dnspython at the given DNS server, the
in-process server of the test. Prints "pass" or "fail" and exits 0 either
way; anything else (a crash, no signature) exits non-zero.
"""
import sys

import dkim
import dns.resolver


def main():
    msg = open(sys.argv[1], "rb").read()
    host, port = sys.argv[2].rsplit(":", 1)
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = [host]
    res.port = int(port)

    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        try:
            answer = res.resolve(name, "TXT", lifetime=timeout)
        except Exception:
            return None
        for rr in answer:
            return b"".join(rr.strings)
        return None

    if b"DKIM-Signature:" not in msg:
        sys.exit("no DKIM-Signature in the message")
    print("pass" if dkim.verify(msg, dnsfunc=dnsfunc) else "fail")


main()

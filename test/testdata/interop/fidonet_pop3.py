#!/usr/bin/env python3
"""Fetch every message of a mailbox with Python's poplib and print it.

usage: fidonet_pop3.py HOST PORT LOGIN PASSWORD

Prints each message's header fields as decoded by Python's email package
("Header: value" lines, RFC 2047 words decoded), then its text/plain body
decoded to Unicode, then a line "=====".
"""

import email
import email.policy
import poplib
import sys


def main():
    host, port, login, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    p = poplib.POP3(host, port, timeout=30)
    p.user(login)
    p.pass_(password)
    count, _ = p.stat()
    for i in range(1, count + 1):
        _, lines, _ = p.retr(i)
        msg = email.message_from_bytes(b"\n".join(lines) + b"\n", policy=email.policy.default)
        for name in ("From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "Content-Type"):
            if msg[name] is not None:
                print("%s: %s" % (name, msg[name]))
        print()
        print(msg.get_body(preferencelist=("plain",)).get_content().rstrip("\n"))
        print("=====")
    p.quit()


if __name__ == "__main__":
    main()

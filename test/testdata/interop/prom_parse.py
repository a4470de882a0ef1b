#!/usr/bin/env python3
"""Parse a Prometheus text exposition from stdin with the reference
client library's parser and print one "name{k=v,...} value" per sample,
labels sorted; exit 1 with the parser's complaint when it is malformed."""
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    text = sys.stdin.read()
    try:
        for fam in text_string_to_metric_families(text):
            for s in fam.samples:
                labels = ",".join("%s=%s" % (k, s.labels[k]) for k in sorted(s.labels))
                print("%s %s{%s} %r" % (fam.type, s.name, labels, s.value))
    except Exception as e:  # the parser raises ValueError and friends
        print("parse error: %s" % e, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()

#!/bin/sh
# A native mail processor for the system tests: it writes the message (%m)
# to the new-message file (%n) with a header of its own in front.
{ printf 'X-Stamped: by stamp.sh\r\n'; cat "$1"; } > "$2"

#!/bin/sh
# A native mail processor for the system tests: it keeps a copy of the
# message (%m) in the data directory (%j) and takes it (PassThru=false).
cp "$1" "$2archived.msg"

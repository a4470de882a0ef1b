// Package test holds the system tests: they build the bbsmail binary once,
// give each test its own BBS tree (a copy of testdata/bbs with free
// loopback ports written into ctrl/sbbs.ini), start `bbsmail serve` on it
// and talk to it the way users and sysops do — with Python's smtplib and
// poplib, swaks and openssl s_client when installed, raw sockets for
// exact dialogs, and the bbsmail command line while the server runs.
//
// Every listener binds 127.0.0.1. Tests wait for conditions with a
// deadline; none asserts a timing.
package test

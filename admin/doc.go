// Package admin implements the sysop's command line on the mailbase:
// users, mailboxes, sub-boards, netmail, telegrams and the outbound queue.
//
// The same commands run in two places. When no server holds the mailbase,
// the bbsmail binary opens it and runs them itself. While the server runs,
// bbolt's file lock keeps a second process out, so the binary forwards the
// command over the control socket (data/bbsmail.sock, mode 0600: only the
// account the server runs as may use it) and the server runs it on its own
// open mailbase, streaming back the output and the exit status. One
// implementation serves both, so the answers never differ.
//
// The socket carries one request per connection: a JSON object with the
// arguments and any standard input, answered by a JSON object with the
// output and exit code. It is not a network service and never listens on
// TCP.
package admin

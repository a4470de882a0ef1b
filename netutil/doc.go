// Package netutil holds what the SMTP and POP3 servers share about
// connections: the accept loop and the forward-confirmed reverse-DNS
// lookup of a client's host name.
//
// It is a leaf: it imports only the standard library, so the protocol
// packages may use it without importing each other.
package netutil

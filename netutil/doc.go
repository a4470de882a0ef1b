// Package netutil holds the accept loop the SMTP and POP3 servers share.
//
// It is a leaf: it imports only the standard library, so the protocol
// packages may use it without importing each other.
package netutil

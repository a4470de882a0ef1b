// Package netutil holds what the SMTP and POP3 servers share about
// connections: the accept loop, the forward-confirmed reverse-DNS lookup
// of a client's host name, and the connection counts (Conns) that one
// process's SMTP and POP3 servers share for MaxClients and
// MaxConcurrentConnections, as Synchronet's mail server counts them.
//
// It is a leaf: it imports only the standard library, so the protocol
// packages may use it without importing each other.
package netutil

// Package netutil holds what the SMTP and POP3 servers share about
// connections, so the two keep one behaviour where Synchronet's mail
// server has one:
//
//   - Tracker: the listeners a server serves (the accept loop retries
//     EMFILE and the like), the sessions it waits for at shutdown and cuts
//     when the deadline passes, and their places in the connection counts.
//   - Conns: the counts that one process's SMTP and POP3 servers share for
//     MaxClients and MaxConcurrentConnections, as Synchronet's mail server
//     counts them.
//   - Screen: the checks before the greeting, in Synchronet's order
//     (ipfilter_exempt.cfg, ip-silent.can, the temporary ban, spamblock.cfg,
//     ip.can, host.can, then the throttle delay). It answers with a
//     Refusal; each protocol turns that into its own reply and log line.
//   - the forward-confirmed reverse-DNS name of a client (shown as
//     "<no name>" when there is none), session ids and error references,
//     the pause gate of the accept loop, the level of TLS failures.
//
// What it does not do: speak either protocol. It never writes to a
// client, and it imports only envelope (for Matcher) and the standard
// library, so the protocol packages may use it without importing each
// other.
package netutil

// Package guard is the failed-login tracker and the request rate limiter
// that the SMTP and POP3 servers of one bbsmail process share, as
// Synchronet's servers share theirs (sbbs.ini LoginAttempt* keys,
// MaxRequestsPerPeriod and RequestRateLimitPeriod).
//
// Failed logins are counted per client address, over every protocol: a
// client that guessed POP3 passwords is throttled, logged and banned on
// the SMTP ports too. A repeat of the previous attempt (same user and same
// password) is not counted again. From the counts follow:
//   - Throttle: a new connection waits attempts × LoginAttemptThrottle
//     before its greeting, once an address has two attempts or more;
//   - HackThreshold: every further failure is written to logs/hack.log;
//   - TempBanThreshold: the address is refused for TempBanDuration after
//     its last attempt; so is an address whose last login name is in
//     text/name.can, at the first try;
//   - FilterThreshold: the address is added to text/ip.can, with
//     Synchronet's t=/p=/r=/e=/u=/h= metadata, unless ipfilter_exempt.cfg
//     lists it or an entry already matches it.
//
// A successful login by a user with a password, or the clear semaphore
// (Clear), forgets an address.
//
// Checking holds one password check per address at a time: the servers
// hold it from before they ask Banned until they have reported the
// outcome, so connections opened ahead of time cannot run more guesses at
// once than TempBanThreshold allows.
//
// Passwords: Synchronet writes the password that was tried on the
// "Details:" line of hack.log. This package never stores, logs or writes
// a password: it keeps only an HMAC-SHA-256 of the last one tried, under a
// key made afresh for each process, to recognise repeats, and hack.log
// says "Details: PLAIN password of 8 characters" instead.
//
// Memory is bounded whatever the traffic: a failed-login record is
// forgotten MinRetention (24 hours) after its last attempt, or
// LoginAttemptTempBanDuration if that is longer (Synchronet keeps them until
// a successful login or a clear), and at most MaxTracked addresses are
// tracked, the one idle longest giving way to a new one. The rate limiter
// counts each client in 32 slots of the period, forgets a client after a
// period of silence and holds at most 65536 clients.
//
// Rate limits are keyed by the client address, or by its subnet when
// RateLimitSubnetPrefix4 or RateLimitSubnetPrefix6 is set (IPv6 clients
// count per /64 by default, as in Synchronet).
//
// What it deliberately does not do: it does not decide who is exempt (the
// servers skip their own address and ipfilter_exempt.cfg before asking),
// it does not sleep or send replies (the servers do, so that shutdown can
// cut a wait short), and it does not read configuration files: the wiring
// hands it plain Settings and the sysop's pattern lists, and calls
// Configure again on a reload. A client refused RateLimitFilterThreshold
// times while it stays active is written to ip.can (or ip-silent.can), the
// whole subnet only once RateLimitFilterSubnetThreshold of its addresses
// were refused, as Synchronet's rate_limit_filter.
// Nothing here is persisted: a restart forgets every count, as Synchronet
// does.
package guard

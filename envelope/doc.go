// Package envelope holds the small types that the protocol servers, the
// routing rules and the mailbase share: a parsed SMTP path, a resolved
// recipient, the envelope of one accepted message, an authenticated identity,
// the Reply error that carries an SMTP answer, and Matcher, the one
// interface every package that applies the sysop's pattern lists takes.
//
// It imports the standard library only, so every other package may depend
// on it. It deliberately holds no behaviour beyond parsing and formatting:
// policy lives in route, smtpd and sendmail; storage in store.
//
// Paths follow RFC 5321 §4.1.2 loosely, the way deployed MTAs do: angle
// brackets are optional, a source route (@a,@b:) is dropped, quotes are kept
// in the local part, and ESMTP parameters after the path are returned apart.
package envelope

package testkit

import (
	"strings"
	"sync"
)

// AuthResults records what a server's Observer hears of logins
// (smtpd.Observer and pop3d.Observer have the same method), safe for
// the server's goroutines and the test at once.
type AuthResults struct {
	mu  sync.Mutex
	got []string
}

// AuthResult records "MECHANISM success" or "MECHANISM failure".
func (l *AuthResults) AuthResult(mechanism string, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := "failure"
	if ok {
		r = "success"
	}
	l.got = append(l.got, mechanism+" "+r)
}

// String lists the results heard so far, in order, comma-separated.
func (l *AuthResults) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.got, ", ")
}

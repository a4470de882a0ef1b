package main

import (
	"context"
	"sync"
	"time"

	"github.com/bbsmail/bbsmail/dnsbl"
	"github.com/bbsmail/bbsmail/sendmail"
	"github.com/bbsmail/bbsmail/smtpd"
)

// The observers the protocol packages declare (smtpd.Observer,
// pop3d.Observer, dnsbl.Observer, store.Options.OnCommit) and the
// wrappers around what the servers call, feeding the metrics.

// authObserver counts one protocol's logins by mechanism and result.
type authObserver struct {
	m     *metrics
	proto string
}

func (o authObserver) AuthResult(mechanism string, ok bool) {
	result := "failure"
	if ok {
		result = "success"
	}
	o.m.inc("bbsmail_auth_total", "protocol", o.proto, "mechanism", mechanism, "result", result)
}

// Lookup counts one DNS blacklist query and its time (dnsbl.Observer).
func (m *metrics) Lookup(zone, result string, took time.Duration) {
	m.inc("bbsmail_dnsbl_lookups_total", "zone", zone, "result", result)
	m.observe("bbsmail_dnsbl_lookup_seconds", took.Seconds(), "zone", zone)
}

// observeDNSBL makes the SMTP configuration's blacklist checker report
// its lookups.
func (m *metrics) observeDNSBL(c smtpd.Config) smtpd.Config {
	if d, ok := c.DNSBL.(*dnsblChecker); ok && m != nil {
		d.r.Observer = m
	}
	return c
}

var _ dnsbl.Observer = (*metrics)(nil)

// observeBatch records how many mailbase writes shared a commit
// (store.Options.OnCommit).
func (m *metrics) observeBatch(calls int) {
	m.observe("bbsmail_commit_batch_size", float64(calls))
}

// countProcessors counts what the mail processors did with a message.
type countProcessors struct {
	smtpd.Processors
	m *metrics
}

func (p countProcessors) Process(ctx context.Context, in *smtpd.ProcessInput) (*smtpd.ProcessResult, error) {
	res, err := p.Processors.Process(ctx, in)
	switch {
	case err != nil:
		p.m.inc("bbsmail_mailproc_total", "outcome", "error", "processor", "")
	case res.Reject != nil:
		p.m.inc("bbsmail_mailproc_total", "outcome", "refused", "processor", processorName(res))
	case res.Consumed:
		p.m.inc("bbsmail_mailproc_total", "outcome", "consumed", "processor", processorName(res))
	}
	return res, err
}

// processorName is the mailproc.ini section that decided, which
// processors.Process puts in parentheses at the end of Reason.
func processorName(res *smtpd.ProcessResult) string {
	r := res.Reason
	if len(r) < 2 || r[len(r)-1] != ')' {
		return ""
	}
	for i := len(r) - 2; i >= 0; i-- {
		if r[i] == '(' {
			return r[i+1 : len(r)-1]
		}
	}
	return ""
}

// countQueue counts SendMail's outcomes, and the attempts of each
// recipient copy that leaves the queue, including the last: it remembers
// the attempts of the entries SendMail claims until their outcome.
type countQueue struct {
	sendmail.Queue
	m *metrics

	mu       sync.Mutex
	attempts map[uint64]int
}

func newCountQueue(q sendmail.Queue, m *metrics) *countQueue {
	return &countQueue{Queue: q, m: m, attempts: map[uint64]int{}}
}

func (q *countQueue) QueueClaim(now time.Time, max int, includeInTransit bool) ([]sendmail.Entry, error) {
	es, err := q.Queue.QueueClaim(now, max, includeInTransit)
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, e := range es {
		q.attempts[e.ID] = e.Attempts
	}
	return es, err
}

// done forgets id and returns its attempts, the one that ended it
// included.
func (q *countQueue) done(id uint64) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := q.attempts[id]
	delete(q.attempts, id)
	return n + 1
}

func (q *countQueue) QueueDelivered(ids ...uint64) error {
	err := q.Queue.QueueDelivered(ids...)
	if err == nil {
		q.m.add("bbsmail_deliveries_total", float64(len(ids)), "outcome", "delivered")
		for _, id := range ids {
			q.m.observe("bbsmail_delivery_attempts", float64(q.done(id)), "outcome", "delivered")
		}
	}
	return err
}

func (q *countQueue) QueueDefer(id uint64, next time.Time, lastErr string) error {
	q.m.inc("bbsmail_deliveries_total", "outcome", "deferred")
	q.done(id)
	return q.Queue.QueueDefer(id, next, lastErr)
}

func (q *countQueue) QueueFail(id uint64, lastErr string) error {
	q.m.inc("bbsmail_deliveries_total", "outcome", "failed")
	q.m.observe("bbsmail_delivery_attempts", float64(q.done(id)), "outcome", "failed")
	return q.Queue.QueueFail(id, lastErr)
}

package main

import (
	"strings"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/sendmail"
	"github.com/bbsmail/bbsmail/smtpd"
)

// Label values are escaped as the text format wants; the histogram is
// cumulative with +Inf, _sum and _count.
func TestMetricsExposition(t *testing.T) {
	m := newMetrics()
	m.inc("bbsmail_dnsbl_listed_total", "zone", `a"b\c`)
	m.observeCommit(3 * time.Millisecond)
	m.observeCommit(2 * time.Second)
	authObserver{m, "POP3"}.AuthResult("APOP", false)
	m.Lookup("bl.test", "listed", 3*time.Millisecond)
	m.observeBatch(3)
	var b strings.Builder
	if err := m.write(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		`bbsmail_dnsbl_listed_total{zone="a\"b\\c"} 1` + "\n",
		`bbsmail_auth_total{protocol="POP3",mechanism="APOP",result="failure"} 1` + "\n",
		`bbsmail_commit_seconds_bucket{le="0.002"} 0` + "\n",
		`bbsmail_commit_seconds_bucket{le="0.005"} 1` + "\n",
		`bbsmail_commit_seconds_bucket{le="2"} 2` + "\n",
		`bbsmail_commit_seconds_bucket{le="+Inf"} 2` + "\n",
		"bbsmail_commit_seconds_count 2\n",
		"# TYPE bbsmail_commit_seconds histogram\n",
		`bbsmail_dnsbl_lookups_total{zone="bl.test",result="listed"} 1` + "\n",
		`bbsmail_dnsbl_lookup_seconds_bucket{zone="bl.test",le="0.005"} 1` + "\n",
		`bbsmail_dnsbl_lookup_seconds_count{zone="bl.test"} 1` + "\n",
		`bbsmail_commit_batch_size_bucket{le="2"} 0` + "\n",
		`bbsmail_commit_batch_size_bucket{le="4"} 1` + "\n",
		"bbsmail_commit_batch_size_sum 3\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("exposition lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "bbsmail_pop3_retrievals_total") {
		t.Errorf("a counter never counted is listed:\n%s", out)
	}
}

type fakeQueue struct{ sendmail.Queue }

func (fakeQueue) QueueClaim(time.Time, int, bool) ([]sendmail.Entry, error) {
	return []sendmail.Entry{{ID: 1}, {ID: 2, Attempts: 3}, {ID: 3, Attempts: 1}}, nil
}
func (fakeQueue) QueueDelivered(...uint64) error             { return nil }
func (fakeQueue) QueueDefer(uint64, time.Time, string) error { return nil }
func (fakeQueue) QueueFail(uint64, string) error             { return nil }

// Each recipient copy that leaves the queue counts its attempts, the last
// included; a deferred one is counted when it leaves.
func TestDeliveryAttempts(t *testing.T) {
	m := newMetrics()
	q := newCountQueue(fakeQueue{}, m)
	if _, err := q.QueueClaim(time.Now(), 10, false); err != nil {
		t.Fatal(err)
	}
	_ = q.QueueDelivered(1)
	_ = q.QueueFail(2, "550 no")
	_ = q.QueueDefer(3, time.Now(), "451 later")
	var b strings.Builder
	if err := m.write(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`bbsmail_delivery_attempts_bucket{outcome="delivered",le="1"} 1`,
		`bbsmail_delivery_attempts_bucket{outcome="failed",le="3"} 0`,
		`bbsmail_delivery_attempts_bucket{outcome="failed",le="4"} 1`,
		`bbsmail_delivery_attempts_count{outcome="failed"} 1`,
		`bbsmail_deliveries_total{outcome="deferred"} 1`,
	} {
		if !strings.Contains(b.String(), want+"\n") {
			t.Errorf("exposition lacks %q:\n%s", want, b.String())
		}
	}
	if len(q.attempts) != 0 {
		t.Errorf("entries left remembered: %v", q.attempts)
	}
}

// The processor that refused or consumed a message is named in the label.
func TestProcessorName(t *testing.T) {
	for reason, want := range map[string]string{"rejected (SpamAssassin)": "SpamAssassin", "no name": "", "": ""} {
		if got := processorName(&smtpd.ProcessResult{Reason: reason}); got != want {
			t.Errorf("processorName(%q) = %q, want %q", reason, got, want)
		}
	}
}

// Refusals are counted by their own log lines only: a tagged message from
// a listed server, a message not received or refused for another reason
// is not a size refusal.
func TestCountLineRefusals(t *testing.T) {
	m := newMetrics()
	for _, line := range []string{
		"SMTP h [192.0.2.7] TAGGED MAIL from blacklisted server (bl.test): <a@b>",
		"!SMTP h [192.0.2.7] REFUSED MAIL from blacklisted server (bl.test) to <c@d>",
		"SMTP h [192.0.2.7] message from <a@b> not received: EOF",
		"!SMTP h [192.0.2.7] message from <a@b> refused: size 2000 over 1000",
		"!SMTP h [192.0.2.7] message from <a@b> refused: 31 Received headers (mail loop)",
		"SMTP h [192.0.2.7] message from <a@b> rejected by a mail processor: 554 No.",
		"SMTP h [192.0.2.7] message from <a@b> taken by a mail processor: archived",
		// Client text holding the DNSBL phrase (a MAIL FROM, a POP3 user
		// name) must not make a zone label of its own.
		`SMTP h [192.0.2.7] message from <"BLACKLISTED SERVER on evil1: x"@b> not received: EOF`,
		"SMTP BLACKLISTED SERVER on bl.test: h [192.0.2.7] = 127.0.0.2",
	} {
		m.countLine(line)
	}
	var b strings.Builder
	if err := m.write(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`bbsmail_recipients_refused_total{reason="dnsbl"} 1`,
		`bbsmail_recipients_refused_total{reason="size"} 1`,
		`bbsmail_recipients_refused_total{reason="mailproc"} 1`,
		`bbsmail_dnsbl_listed_total{zone="bl.test"} 1`,
	} {
		if !strings.Contains(b.String(), want+"\n") {
			t.Errorf("exposition lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "evil1") {
		t.Errorf("client text made a zone label:\n%s", b.String())
	}
}

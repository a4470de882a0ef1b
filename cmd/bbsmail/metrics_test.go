package main

import (
	"strings"
	"testing"
	"time"
)

// Label values are escaped as the text format wants; the histogram is
// cumulative with +Inf, _sum and _count.
func TestMetricsExposition(t *testing.T) {
	m := newMetrics()
	m.inc("bbsmail_dnsbl_listed_total", "zone", `a"b\c`)
	m.observeCommit(3 * time.Millisecond)
	m.observeCommit(2 * time.Second)
	m.countLine("POP3 [192.0.2.7] !AUTHENTICATION FAILURE (APOP) for user: x")
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
	} {
		if !strings.Contains(out, want) {
			t.Errorf("exposition lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "bbsmail_pop3_retrievals_total") {
		t.Errorf("a counter never counted is listed:\n%s", out)
	}
}

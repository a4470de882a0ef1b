package test

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// promParser returns a Python interpreter that has the reference
// Prometheus client library (Debian: python3-prometheus-client).
func promParser(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if p, err := exec.LookPath(py); err == nil && exec.Command(p, "-c", "import prometheus_client.parser").Run() == nil {
			return p
		}
	}
	t.Skip("no python3 with prometheus_client (Debian: python3-prometheus-client): the exposition is not parsed")
	return ""
}

// The metrics endpoint is off by default; with MetricsPort it serves the
// Prometheus text format on loopback, which the reference parser reads,
// and counts connections, commits and their batches, refusals, logins by
// mechanism, POP3 retrievals, DNS blacklist lookups (a Received field
// naming an address the in-process name server lists), a mail
// processor's refusal and a SendMail delivery with its attempts.
// `bbsmail status` shows the same through the control socket.
func TestMetricsAndStatus(t *testing.T) {
	peer := startOutboundPeer(t, "", "")
	dns := startOutboundDNS(t, append(outboundMXRecords("remote.test"), "7.2.0.192.bl.test. 60 IN A 127.0.0.2"))
	b := outboundBBS(t, dns, peer.port)
	b.mail["Options"] = outboundOptions + " | DNSBL_CHKRECVHDRS"
	port := freePorts(t, 1)[0]
	b.mail["MetricsPort"] = strconv.Itoa(port)
	coreWrite(t, filepath.Join(b.ctrl, "dns_blacklist.cfg"), "bl.test  (test list)\n")
	coreWrite(t, filepath.Join(b.ctrl, "mailproc.ini"), "[Gatekeeper]\n\tEval = if (sender_address.indexOf(\"pest@\") == 0) { var f = new File(processing_error_filename); f.open(\"w\"); f.writeln(\"No mail from you.\"); f.close(); }\n")
	b.start()
	coreWaitLog(b, "Metrics server listening on 127.0.0.1:"+strconv.Itoa(port))
	b.addUser("Digital Man", "Metrics-Pass-1")
	b.addUser("Alice", outboundPW)

	coreDeliver(t, b, "joe@example.org", "digital.man@bbs.test", "counted")
	c := coreStartTx(t, b, "spammer@example.net")
	c.send("RCPT TO:<victim@example.com>")
	c.expect("5")
	c.c.Close()
	c = coreStartTx(t, b, "joe@example.org")
	c.send("RCPT TO:<nobody.here@bbs.test>")
	c.expect("550 ")
	c.c.Close()
	c = coreSMTPReady(t, b)
	c.send("EHLO client.example")
	c.expect("250 ")
	c.send("AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00Digital Man\x00Wrong-Guess-1")))
	c.expect("535 ")
	c.c.Close()
	p := dial(t, b.addr(b.ports.POP3))
	p.expect("+OK")
	p.send("USER Digital Man")
	p.expect("+OK")
	p.send("PASS Metrics-Pass-1")
	p.expect("+OK")
	p.send("RETR 1")
	p.expect("+OK")
	for p.reply() != "." {
	}
	p.send("QUIT")
	p.expect("+OK")
	p = dial(t, b.addr(b.ports.POP3))
	greeting := p.expect("+OK")
	stamp := greeting[strings.Index(greeting, "<"):]
	p.send(fmt.Sprintf("APOP Digital Man %x", md5.Sum([]byte(stamp+"Metrics-Pass-1"))))
	p.expect("+OK")
	p.send("QUIT")
	p.expect("+OK")

	b.routingMustSend(routingMsg{port: b.ports.SMTP, from: "joe@example.org", to: []string{"digital.man@bbs.test"}, subject: "relayed",
		headers: []string{"Received: from mx.spam.example (mx.spam.example [192.0.2.7]) by relay.example.org; Mon, 7 Dec 2026 10:00:00 +0000"}})
	if out := b.routingSend(routingMsg{port: b.ports.SMTP, from: "pest@example.org", to: []string{"digital.man@bbs.test"}, subject: "let me in"}); !strings.HasPrefix(out, "DATA-REFUSED 554") {
		t.Errorf("the pest got %q, want the processor's 554", out)
	}
	b.outboundSubmit([]string{"user@remote.test"}, "outbound", "Hello out there.")
	waitFor(t, 30*time.Second, "the peer to receive the submitted message", func() bool { return len(peer.messages()) == 1 })
	b.outboundQueueEmpty("the delivery")

	py := promParser(t)
	want := []string{
		`counter bbsmail_connections_total{port=` + strconv.Itoa(b.ports.SMTP) + `,protocol=SMTP} 6.0`,
		`counter bbsmail_connections_total{port=` + strconv.Itoa(b.ports.POP3) + `,protocol=POP3} 2.0`,
		`counter bbsmail_messages_accepted_total{} 3.0`,
		`counter bbsmail_recipients_refused_total{reason=relay} 1.0`,
		`counter bbsmail_recipients_refused_total{reason=unknown_user} 1.0`,
		`counter bbsmail_auth_total{mechanism=PLAIN,protocol=SMTP,result=failure} 1.0`,
		`counter bbsmail_auth_total{mechanism=CRAM-MD5,protocol=SMTP,result=success} 1.0`,
		`counter bbsmail_auth_total{mechanism=USER/PASS,protocol=POP3,result=success} 1.0`,
		`counter bbsmail_auth_total{mechanism=APOP,protocol=POP3,result=success} 1.0`,
		`counter bbsmail_pop3_retrievals_total{} 1.0`,
		`counter bbsmail_dnsbl_lookups_total{result=listed,zone=bl.test} 1.0`,
		`histogram bbsmail_dnsbl_lookup_seconds_count{zone=bl.test} 1.0`,
		`counter bbsmail_dnsbl_listed_total{zone=bl.test  (test list)} 1.0`,
		`counter bbsmail_mailproc_total{outcome=refused,processor=Gatekeeper} 1.0`,
		`counter bbsmail_recipients_refused_total{reason=mailproc} 1.0`,
		`counter bbsmail_deliveries_total{outcome=delivered} 1.0`,
		`histogram bbsmail_delivery_attempts_bucket{le=1,outcome=delivered} 1.0`,
		`histogram bbsmail_delivery_attempts_count{outcome=delivered} 1.0`,
		`gauge bbsmail_queue_messages{} 0.0`,
		`histogram bbsmail_commit_seconds_count{} 3.0`,
	}
	var parsed string
	var missing []string
	if !routingPoll(10*time.Second, func() bool {
		parsed, missing = parseMetrics(t, py, port), nil
		for _, w := range want {
			if !strings.Contains(parsed, w+"\n") {
				missing = append(missing, w)
			}
		}
		return len(missing) == 0 && strings.Contains(parsed, "gauge bbsmail_sessions_open{protocol=SMTP} 0.0\n")
	}) {
		t.Fatalf("the metrics lack %q (or an SMTP session stays open):\n%s", missing, parsed)
	}
	// A tagged message is not a refused one, nor is a processor's
	// refusal one for size.
	for _, bad := range []string{"reason=dnsbl", "reason=size"} {
		if strings.Contains(parsed, bad) {
			t.Errorf("the metrics count a refusal with %s that did not happen:\n%s", bad, parsed)
		}
	}
	// Every write of the run was in some commit: at least the three
	// deliveries, each counted once.
	if n := metricValue(parsed, "histogram bbsmail_commit_batch_size_sum{}"); n < 3 {
		t.Errorf("commit batches carried %v writes, want at least the 3 deliveries:\n%s", n, parsed)
	}

	out := b.must("status")
	for _, w := range []string{"bbsmail ", " up ", "messages_accepted_total 3", `recipients_refused_total{reason="relay"} 1`, `auth_total{protocol="SMTP",mechanism="PLAIN",result="failure"} 1`, "commit_batch_size_count ", "queue_messages 0"} {
		if !strings.Contains(out, w) {
			t.Errorf("status lacks %q:\n%s", w, out)
		}
	}
}

func parseMetrics(t *testing.T, py string, port int) string {
	t.Helper()
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("GET /metrics: %v %d %q", err, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	cmd := exec.Command(py, filepath.Join("testdata", "interop", "prom_parse.py"))
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the reference parser refuses the exposition: %v\n%s\n%s", err, out, body)
	}
	return string(out)
}

// Without MetricsPort nothing listens for metrics.
func TestMetricsOffByDefault(t *testing.T) {
	b := newBBS(t)
	b.start()
	if b.logContains("Metrics server listening") {
		t.Errorf("a metrics endpoint was opened without MetricsPort:\n%s", b.log.String())
	}
}

// metricValue returns the value of the parsed series line that starts
// with series, or -1.
func metricValue(parsed, series string) float64 {
	for _, l := range strings.Split(parsed, "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				return f
			}
		}
	}
	return -1
}

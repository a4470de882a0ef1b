package test

import (
	"bytes"
	"encoding/base64"
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
// and counts connections, commits, refusals, logins and POP3 retrievals.
// `bbsmail status` shows the same through the control socket.
func TestMetricsAndStatus(t *testing.T) {
	b := newBBS(t)
	port := freePorts(t, 1)[0]
	b.mail["MetricsPort"] = strconv.Itoa(port)
	b.start()
	coreWaitLog(b, "Metrics server listening on 127.0.0.1:"+strconv.Itoa(port))
	b.addUser("Digital Man", "Metrics-Pass-1")

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
	for !strings.HasPrefix(p.reply(), ".") {
	}
	p.send("QUIT")
	p.expect("+OK")

	py := promParser(t)
	want := []string{
		`counter bbsmail_connections_total{port=` + strconv.Itoa(b.ports.SMTP) + `,protocol=SMTP} 4.0`,
		`counter bbsmail_connections_total{port=` + strconv.Itoa(b.ports.POP3) + `,protocol=POP3} 1.0`,
		`counter bbsmail_messages_accepted_total{} 1.0`,
		`counter bbsmail_recipients_refused_total{reason=relay} 1.0`,
		`counter bbsmail_recipients_refused_total{reason=unknown_user} 1.0`,
		`counter bbsmail_auth_total{mechanism=any,protocol=SMTP,result=failure} 1.0`,
		`counter bbsmail_auth_total{mechanism=USER/PASS,protocol=POP3,result=success} 1.0`,
		`counter bbsmail_pop3_retrievals_total{} 1.0`,
		`gauge bbsmail_queue_messages{} 0.0`,
		`histogram bbsmail_commit_seconds_count{} 1.0`,
	}
	var parsed string
	waitFor(t, 10*time.Second, "the metrics to show every counted event", func() bool {
		parsed = parseMetrics(t, py, port)
		for _, w := range want {
			if !strings.Contains(parsed, w+"\n") {
				return false
			}
		}
		return strings.Contains(parsed, "gauge bbsmail_sessions_open{protocol=SMTP} 0.0\n")
	})

	out := b.must("status")
	for _, w := range []string{"bbsmail ", " up ", "messages_accepted_total 1", `recipients_refused_total{reason="relay"} 1`, "queue_messages 0"} {
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

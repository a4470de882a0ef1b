package main

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// metrics counts what the server does, for the Prometheus text endpoint
// and `bbsmail status`. Everything is counted from the wiring: listeners,
// the adapters the servers call, the log lines they write and the queue
// in the mailbase. The protocol packages know nothing about it.
type metrics struct {
	mu       sync.Mutex
	counters map[string]map[string]float64 // name -> rendered labels -> value
	commit   histogram
}

// metricHelp is each metric's HELP text and TYPE, in output order.
var metricHelp = []struct{ name, kind, help string }{
	{"bbsmail_uptime_seconds", "gauge", "Seconds since the server started."},
	{"bbsmail_connections_total", "counter", "Connections accepted, by protocol and port."},
	{"bbsmail_sessions_open", "gauge", "Connections open now, by protocol."},
	{"bbsmail_messages_accepted_total", "counter", "Messages committed to the mailbase after DATA."},
	{"bbsmail_recipients_refused_total", "counter", "Recipients and messages refused, by reason."},
	{"bbsmail_auth_total", "counter", "Logins, by protocol, mechanism and result."},
	{"bbsmail_bans_total", "counter", "Connections refused by a temporary ban, and addresses added to ip.can."},
	{"bbsmail_dnsbl_listed_total", "counter", "Clients found listed, by DNS blacklist zone."},
	{"bbsmail_pop3_retrievals_total", "counter", "Messages retrieved over POP3."},
	{"bbsmail_deliveries_total", "counter", "SendMail delivery attempts, by outcome."},
	{"bbsmail_queue_messages", "gauge", "Recipients waiting in the SendMail queue."},
	{"bbsmail_queue_oldest_seconds", "gauge", "Age of the oldest queue entry."},
	{"bbsmail_commit_seconds", "histogram", "Time from DATA's end to the committed, synced mailbase transaction."},
}

func newMetrics() *metrics {
	return &metrics{counters: map[string]map[string]float64{}, commit: newHistogram()}
}

// labelEscaper escapes a label value (Prometheus text format). Built once:
// a Replacer builds its tables on first use, and labels runs for every
// connection and message.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// labels renders label pairs ("protocol", "SMTP", ...) in Prometheus
// syntax, values escaped.
func labels(kv ...string) string {
	if len(kv) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		v := labelEscaper.Replace(kv[i+1])
		fmt.Fprintf(&b, `%s="%s"`, kv[i], v)
	}
	b.WriteByte('}')
	return b.String()
}

func (m *metrics) add(name string, delta float64, kv ...string) {
	if m == nil {
		return
	}
	l := labels(kv...)
	m.mu.Lock()
	defer m.mu.Unlock()
	series := m.counters[name]
	if series == nil {
		series = map[string]float64{}
		m.counters[name] = series
	}
	series[l] += delta
}

func (m *metrics) inc(name string, kv ...string) { m.add(name, 1, kv...) }

func (m *metrics) set(name string, v float64, kv ...string) {
	l := labels(kv...)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.counters[name] == nil {
		m.counters[name] = map[string]float64{}
	}
	m.counters[name][l] = v
}

// observeCommit records one delivery's commit time.
func (m *metrics) observeCommit(d time.Duration) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.commit.observe(d.Seconds())
}

// write renders every metric in the Prometheus text format, version 0.0.4.
func (m *metrics) write(w io.Writer) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	for _, h := range metricHelp {
		if h.kind == "histogram" {
			fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s histogram\n", h.name, h.help, h.name)
			m.commit.write(&b, h.name)
			continue
		}
		series := m.counters[h.name]
		if len(series) == 0 && h.kind == "counter" {
			continue
		}
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", h.name, h.help, h.name, h.kind)
		keys := make([]string, 0, len(series))
		for k := range series {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "%s%s %s\n", h.name, k, formatFloat(series[k]))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func formatFloat(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// histogram is a cumulative Prometheus histogram.
type histogram struct {
	bounds []float64
	counts []uint64 // per bound, not cumulative; the last is +Inf
	sum    float64
	n      uint64
}

func newHistogram() histogram {
	b := []float64{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5}
	return histogram{bounds: b, counts: make([]uint64, len(b)+1)}
}

func (h *histogram) observe(v float64) {
	i := sort.SearchFloat64s(h.bounds, v)
	h.counts[i]++
	h.sum += v
	h.n++
}

func (h *histogram) write(b *strings.Builder, name string) {
	var cum uint64
	for i, le := range h.bounds {
		cum += h.counts[i]
		fmt.Fprintf(b, "%s_bucket{le=\"%s\"} %d\n", name, strconv.FormatFloat(le, 'g', -1, 64), cum)
	}
	cum += h.counts[len(h.bounds)]
	fmt.Fprintf(b, "%s_bucket{le=\"+Inf\"} %d\n%s_sum %s\n%s_count %d\n", name, cum, name, strconv.FormatFloat(h.sum, 'g', -1, 64), name, h.n)
}

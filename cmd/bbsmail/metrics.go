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
// the adapters the servers call, the observers the protocol packages
// declare (metrics_observe.go), the log lines they write and the queue in
// the mailbase. The protocol packages know nothing about it.
type metrics struct {
	mu       sync.Mutex
	counters map[string]map[string]float64    // name -> rendered labels -> value
	hists    map[string]map[string]*histogram // likewise, for histograms
}

// metricHelp is each metric's HELP text and TYPE, in output order.
var metricHelp = []struct {
	name, kind, help string
	bounds           []float64 // a histogram's buckets
}{
	{"bbsmail_uptime_seconds", "gauge", "Seconds since the server started.", nil},
	{"bbsmail_connections_total", "counter", "Connections accepted, by protocol and port.", nil},
	{"bbsmail_sessions_open", "gauge", "Connections open now, by protocol.", nil},
	{"bbsmail_messages_accepted_total", "counter", "Messages committed to the mailbase after DATA.", nil},
	{"bbsmail_commit_seconds", "histogram", "Time from DATA's end to the committed, synced mailbase transaction.", secondsBuckets},
	{"bbsmail_commit_batch_size", "histogram", "Mailbase writes (deliveries, queue updates) that shared one commit and fsync.", batchBuckets},
	{"bbsmail_recipients_refused_total", "counter", "Recipients and messages refused, by reason.", nil},
	{"bbsmail_auth_total", "counter", "Logins, by protocol, mechanism and result.", nil},
	{"bbsmail_bans_total", "counter", "Connections refused by a temporary ban, and addresses added to ip.can.", nil},
	{"bbsmail_dnsbl_lookups_total", "counter", "DNS blacklist queries, by zone and result (listed, not_listed, error).", nil},
	{"bbsmail_dnsbl_lookup_seconds", "histogram", "Time a DNS blacklist query took, by zone.", secondsBuckets},
	{"bbsmail_dnsbl_listed_total", "counter", "Clients found listed, by DNS blacklist zone.", nil},
	{"bbsmail_mailproc_total", "counter", "Messages a mail processor refused or consumed, and processor runs that failed, by outcome and processor.", nil},
	{"bbsmail_pop3_retrievals_total", "counter", "Messages retrieved over POP3.", nil},
	{"bbsmail_deliveries_total", "counter", "SendMail delivery attempts, by outcome.", nil},
	{"bbsmail_delivery_attempts", "histogram", "Attempts SendMail made per recipient copy that left the queue, by outcome (delivered, failed).", attemptBuckets},
	{"bbsmail_queue_messages", "gauge", "Recipients waiting in the SendMail queue.", nil},
	{"bbsmail_queue_oldest_seconds", "gauge", "Age of the oldest queue entry.", nil},
}

// Histogram buckets.
var (
	secondsBuckets = []float64{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5}
	attemptBuckets = []float64{1, 2, 3, 4, 5, 10, 20, 50, 100}
	batchBuckets   = []float64{1, 2, 4, 8, 16, 32, 64, 128}
)

// alwaysShown are the histograms listed before their first observation
// (the others appear with their first label set).
var alwaysShown = []string{"bbsmail_commit_seconds", "bbsmail_commit_batch_size"}

func newMetrics() *metrics {
	m := &metrics{counters: map[string]map[string]float64{}, hists: map[string]map[string]*histogram{}}
	for _, name := range alwaysShown {
		m.observe(name, -1) // creates the series; a negative value is not counted
	}
	return m
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

// observe records v in the histogram name with the given labels. A
// negative v only makes sure the series exists.
func (m *metrics) observe(name string, v float64, kv ...string) {
	if m == nil {
		return
	}
	l := labels(kv...)
	m.mu.Lock()
	defer m.mu.Unlock()
	series := m.hists[name]
	if series == nil {
		series = map[string]*histogram{}
		m.hists[name] = series
	}
	h := series[l]
	if h == nil {
		h = newHistogram(histogramBounds(name))
		series[l] = h
	}
	if v >= 0 {
		h.observe(v)
	}
}

func histogramBounds(name string) []float64 {
	for _, h := range metricHelp {
		if h.name == name {
			return h.bounds
		}
	}
	panic("metrics: no histogram " + name)
}

// observeCommit records one delivery's commit time.
func (m *metrics) observeCommit(d time.Duration) {
	m.observe("bbsmail_commit_seconds", d.Seconds())
}

// write renders every metric in the Prometheus text format, version 0.0.4.
func (m *metrics) write(w io.Writer) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	for _, h := range metricHelp {
		if h.kind == "histogram" {
			m.writeHistograms(&b, h.name, h.help)
			continue
		}
		series := m.counters[h.name]
		if len(series) == 0 && h.kind == "counter" {
			continue
		}
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", h.name, h.help, h.name, h.kind)
		for _, k := range sortedKeys(series) {
			fmt.Fprintf(&b, "%s%s %s\n", h.name, k, formatFloat(series[k]))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (m *metrics) writeHistograms(b *strings.Builder, name, help string) {
	series := m.hists[name]
	if len(series) == 0 {
		return
	}
	fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name)
	for _, k := range sortedKeys(series) {
		series[k].write(b, name, k)
	}
}

func sortedKeys[V any](series map[string]V) []string {
	keys := make([]string, 0, len(series))
	for k := range series {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
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

func newHistogram(bounds []float64) *histogram {
	return &histogram{bounds: bounds, counts: make([]uint64, len(bounds)+1)}
}

func (h *histogram) observe(v float64) {
	i := sort.SearchFloat64s(h.bounds, v)
	h.counts[i]++
	h.sum += v
	h.n++
}

// write renders the histogram; l is its other labels, rendered ("" or
// "{zone=\"x\"}"), which go in front of le.
func (h *histogram) write(b *strings.Builder, name, l string) {
	le := "{le="
	if l != "" {
		le = strings.TrimSuffix(l, "}") + ",le="
	}
	var cum uint64
	for i, bound := range h.bounds {
		cum += h.counts[i]
		fmt.Fprintf(b, "%s_bucket%s\"%s\"} %d\n", name, le, strconv.FormatFloat(bound, 'g', -1, 64), cum)
	}
	cum += h.counts[len(h.bounds)]
	fmt.Fprintf(b, "%s_bucket%s\"+Inf\"} %d\n%s_sum%s %s\n%s_count%s %d\n", name, le, cum, name, l, strconv.FormatFloat(h.sum, 'g', -1, 64), name, l, h.n)
}

package main

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// latency summarises a set of durations.
type latency struct {
	n             int
	p50, p99, max time.Duration
}

// summarize sorts d in place and takes nearest-rank percentiles.
func summarize(d []time.Duration) latency {
	if len(d) == 0 {
		return latency{}
	}
	slices.Sort(d)
	return latency{n: len(d), p50: percentile(d, 50), p99: percentile(d, 99), max: d[len(d)-1]}
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	return sorted[max(rank, 1)-1]
}

func (l latency) String() string {
	if l.n == 0 {
		return "no samples"
	}
	return fmt.Sprintf("p50 %s  p99 %s  max %s  (%d samples)", ms(l.p50), ms(l.p99), ms(l.max), l.n)
}

// ms formats a duration in milliseconds, the unit SMTP latencies live in.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}

// cells renders a figure as rate, p50, p99.
func (f figure) cells() []string {
	if f.note != "" {
		return []string{f.note, "", ""}
	}
	rate, p50, p99 := "-", "-", "-"
	if f.rate > 0 {
		rate = fmt.Sprintf("%.1f", f.rate)
	}
	if f.p50 > 0 {
		p50, p99 = ms(f.p50), ms(f.p99)
	}
	return []string{rate, p50, p99}
}

// ratio is bbsmail's rate over Postfix's, when both exist.
func (r *row) ratio() string {
	if r.bbs.note != "" || r.pf.note != "" || r.bbs.rate == 0 || r.pf.rate == 0 {
		return ""
	}
	return fmt.Sprintf("%.2fx", r.bbs.rate/r.pf.rate)
}

// summary prints the table of every figure.
func (b *bench) summary() {
	b.printf("== Summary (msgs/s = accepted or delivered messages per second of wall time)\n")
	tw := tabwriter.NewWriter(b.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tbbsmail msgs/s\tp50\tp99\tPostfix msgs/s\tp50\tp99\tbbsmail/Postfix")
	for _, r := range b.rows {
		cells := append([]string{r.name}, r.bbs.cells()...)
		cells = append(cells, r.pf.cells()...)
		cells = append(cells, r.ratio())
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
	b.printf("p50/p99: per message from MAIL to the 250 after DATA, except the per-connection row\n")
	b.printf("(connect to the 221 after QUIT); smtp-source and outbound runs give rates only.\n")
}

package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of the times in /proc/PID/stat (USER_HZ, 100 on
// Linux everywhere that matters here).
const clockTick = 10 * time.Millisecond

// procCPU is the CPU time (user and system) process pid has used so far.
// On a machine shared with other work the rate of a run swings with the
// load, while the server's CPU time per message hardly does: it is the
// figure to compare builds by. Linux only.
func procCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; the fields after its
	// closing parenthesis are plain.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	// utime and stime are fields 14 and 15 of the line, 12 and 13 here.
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad times", pid)
	}
	return time.Duration(utime+stime) * clockTick, nil
}

// cpuMeter prints the CPU time a server used per message over one run.
type cpuMeter struct {
	pid        int
	start, end time.Duration
	ok         bool
}

func startCPU(pid int) cpuMeter {
	t, err := procCPU(pid)
	return cpuMeter{pid: pid, start: t, ok: err == nil}
}

// stop ends the measured span.
func (m *cpuMeter) stop() {
	t, err := procCPU(m.pid)
	m.end, m.ok = t, m.ok && err == nil
}

// report prints the server's CPU per message from startCPU to stop.
func (m *cpuMeter) report(b *bench, messages int) {
	if !m.ok || messages == 0 {
		return
	}
	used := m.end - m.start
	b.printf("   server CPU: %.2fs, %.0f µs per message\n", used.Seconds(), float64(used.Microseconds())/float64(messages))
}

// machineCPU is the busy CPU time of the whole machine so far (every
// core's user, nice, system, irq and softirq time from /proc/stat): over a
// run, minus the client's own time, it is what the server under test and
// the kernel spent for it, however many processes the server forks (a
// Dovecot login process per connection). Linux only.
func machineCPU() (time.Duration, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var busy int64
	for _, i := range []int{1, 2, 3, 6, 7} { // user nice system irq softirq
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %w", err)
		}
		busy += n
	}
	return time.Duration(busy) * clockTick, nil
}

// cpuSplit measures, over one span, the CPU time of this process (the
// load client) and of the rest of the machine.
type cpuSplit struct {
	self, all time.Duration
	ok        bool
}

func startSplit() cpuSplit {
	self, err1 := procCPU(os.Getpid())
	all, err2 := machineCPU()
	return cpuSplit{self: self, all: all, ok: err1 == nil && err2 == nil}
}

// stop returns the client's and the rest's CPU time since startSplit.
func (s cpuSplit) stop() (client, rest time.Duration, ok bool) {
	self, err1 := procCPU(os.Getpid())
	all, err2 := machineCPU()
	if !s.ok || err1 != nil || err2 != nil {
		return 0, 0, false
	}
	client = self - s.self
	return client, max(all-s.all-client, 0), true
}

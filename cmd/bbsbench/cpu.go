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

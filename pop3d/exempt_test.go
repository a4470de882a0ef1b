package pop3d_test

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/ctrl/pattern"
	"github.com/bbsmail/bbsmail/pop3d"
)

// The sysop's pattern lists plug straight into Config.IPFilterExempt.
var (
	_ pop3d.Matcher = (*pattern.List)(nil)
	_ pop3d.Matcher = (*pattern.File)(nil)
)

// An address in ipfilter_exempt.cfg is not held to MaxConnsPerIP.
func TestExemptAddressSkipsPerIPLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, list string
		admitted   bool
	}{
		{"listed", "; loopback is trusted\n127.0.0.0/8\n", true},
		{"not listed", "192.0.2.1\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, pop3d.Config{MaxConnsPerIP: 1, IPFilterExempt: pattern.MustParse(tc.list)}, false, false)
			var lines []string
			for range 2 {
				c, err := net.DialTimeout("tcp", ts.addr, ioTimeout)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(ioTimeout))
				line, _ := bufio.NewReader(c).ReadString('\n')
				lines = append(lines, line)
			}
			got := strings.HasPrefix(lines[1], "+OK bbs.test bbsmail POP3 Server")
			if got != tc.admitted || !strings.HasPrefix(lines[0], "+OK") {
				t.Fatalf("greetings %q; want second admitted=%v", lines, tc.admitted)
			}
		})
	}
}

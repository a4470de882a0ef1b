package smtpd_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bbsmail/bbsmail/ctrl/pattern"
	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/internal/testkit"
	"github.com/bbsmail/bbsmail/smtpd"
)

// TestDialogs runs every testdata/dialogs/*.txt transcript against its own
// server; the format is described in testdata/dialogs/README.md.
func TestDialogs(t *testing.T) {
	for _, f := range testkit.ReadDialogs(t, "testdata/dialogs") {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			t.Parallel()
			runDialog(t, f)
		})
	}
}

func runDialog(t *testing.T, file string) {
	d := testkit.ParseDialog(t, file)
	head := d.Head
	ts := startServer(t, dialogMode(t, head["mode"]), func(c *smtpd.Config) { applyKnobs(t, c, head) })
	switch head["deliver"] {
	case "":
	case "error":
		ts.drop.fail = errors.New("mailbase: disk on fire at /var/secret/path")
	case "reply":
		ts.drop.fail = envelope.Replyf(452, "4.3.1", "Insufficient system storage")
	default:
		t.Fatalf("unknown deliver: %q", head["deliver"])
	}
	if v := head["online"]; v != "" {
		ts.tele.online = map[uint32]bool{}
		for _, f := range strings.Split(v, ",") {
			n, _ := strconv.Atoi(strings.TrimSpace(f))
			ts.tele.online[uint32(n)] = true
		}
	}
	d.Dial = ts.dialConn
	d.TLS = func() *tls.Config { return ts.clientTLS }
	d.Ops = dialogOps(t, ts)
	d.Run()
}

func dialogMode(t *testing.T, m string) smtpd.Mode {
	switch m {
	case "", "mta":
		return smtpd.MTA
	case "submission":
		return smtpd.Submission
	case "smtps":
		return smtpd.SubmissionTLS
	}
	t.Fatalf("unknown mode %q", m)
	return 0
}

func applyKnobs(t *testing.T, c *smtpd.Config, head map[string]string) {
	atoi := func(k string) int {
		n, err := strconv.Atoi(head[k])
		if err != nil {
			t.Fatalf("header %s: %v", k, err)
		}
		return n
	}
	for k, v := range head {
		switch k {
		case "mode", "deliver", "online":
		case "tls":
			if v == "off" {
				c.TLS = nil
			}
		case "loopback":
			if v == "no" {
				c.Loopback = func(net.IP) bool { return false }
			}
		case "maxrcpt":
			c.MaxRecipients = atoi(k)
		case "maxsize":
			c.MaxMsgSize = int64(atoi(k))
		case "maxbad":
			c.MaxBadCommands = atoi(k)
		case "allowrelay":
			c.AllowRelay = v == "yes"
		case "relayhost":
			c.RelayHosts = matchIP(v)
		case "relaycfg": // relay.cfg with this one pattern line
			c.RelayHosts = pattern.MustParse(v)
		case "ipsilent", "spamblock", "spamblockexempt", "ipcan", "hostcan",
			"filterexempt", "emailcan", "subjectcan", "twitlist", "spambait":
			*filterList(c, k) = pattern.MustParse(v)
		case "rdns":
			switch v {
			case "none":
				c.LookupAddr = func(context.Context, string) ([]string, error) { return nil, errors.New("NXDOMAIN") }
			case "forged": // the PTR names a host that does not resolve back
				c.LookupAddr = func(context.Context, string) ([]string, error) { return []string{"mx.partner.example."}, nil }
			}
		case "senderhost":
			// The sender's domain resolves to this address.
			c.LookupHost = func(_ context.Context, host string) ([]string, error) {
				if host == "client.example" {
					return []string{"127.0.0.1"}, nil
				}
				return []string{v}, nil
			}
		case "dnsbl", "dnsblmode", "dnsblsubject", "dnsblheader", "dnsblexempt":
			applyDNSBLKnob(t, c, head, k, v)
		case "nonotify":
			c.NoNotify = v == "yes"
		case "notifyoffline":
			c.NotifyOfflineUsers = v == "yes"
		default:
			t.Fatalf("unknown header %q", k)
		}
	}
}

// applyDNSBLKnob sets one of the DNSBL knobs. A dialog with a "dnsbl"
// knob tags Subjects with smtpd.DefaultDNSBLSubject unless "dnsblsubject"
// says otherwise ("none" for no subject tag).
func applyDNSBLKnob(t *testing.T, c *smtpd.Config, head map[string]string, k, v string) {
	switch k {
	case "dnsbl":
		switch v {
		case "listed", "clean":
			c.DNSBL = fakeDNSBL{listed: v == "listed"}
		case "error":
			c.DNSBL = fakeDNSBL{fail: true}
		default:
			t.Fatalf("unknown dnsbl: %q", v)
		}
		if _, ok := head["dnsblsubject"]; !ok {
			c.DNSBLSubject = smtpd.DefaultDNSBLSubject
		}
	case "dnsblmode":
		switch v {
		case "refuse":
			c.DNSBLRefuse = true
		case "baduser":
			c.DNSBLBadUser = true
		case "ignore":
			c.DNSBLIgnore = true
		case "tag":
		default:
			t.Fatalf("unknown dnsblmode: %q", v)
		}
	case "dnsblsubject":
		if v != "none" {
			c.DNSBLSubject = v
		}
	case "dnsblheader":
		c.DNSBLHeader = v
	case "dnsblexempt":
		c.DNSBLExempt = pattern.MustParse(v)
	}
}

// filterList is the Config field a filter-list knob fills with its one
// pattern line.
func filterList(c *smtpd.Config, knob string) *smtpd.Matcher {
	return map[string]*smtpd.Matcher{
		"ipsilent":        &c.IPSilent,
		"spamblock":       &c.SpamBlock,
		"spamblockexempt": &c.SpamBlockExempt,
		"ipcan":           &c.IPFilter,
		"hostcan":         &c.HostFilter,
		"filterexempt":    &c.IPFilterExempt,
		"emailcan":        &c.EmailFilter,
		"subjectcan":      &c.SubjectFilter,
		"twitlist":        &c.TwitList,
		"spambait":        &c.SpamBait,
	}[knob]
}

// dialogOps are smtpd's own directives: what the fakes saw.
func dialogOps(t *testing.T, ts *testServer) map[string]func(*testkit.Dialog, testkit.Step) error {
	return map[string]func(*testkit.Dialog, testkit.Step) error{
		"delivered:": func(_ *testkit.Dialog, st testkit.Step) error {
			if n := ts.drop.count(); strconv.Itoa(n) != st.Arg {
				return fmt.Errorf("%d deliveries", n)
			}
			return nil
		},
		"msg~": func(_ *testkit.Dialog, st testkit.Step) error {
			_, msg := ts.drop.last()
			return testkit.Match(st, "last message", string(msg))
		},
		"env~": func(_ *testkit.Dialog, st testkit.Step) error {
			env, _ := ts.drop.last()
			return testkit.Match(st, "last envelope", envString(env))
		},
		"telegrams:": func(_ *testkit.Dialog, st testkit.Step) error {
			if n := len(ts.tele.all()); strconv.Itoa(n) != st.Arg {
				return fmt.Errorf("%d telegrams: %+v", n, ts.tele.all())
			}
			return nil
		},
		"telegram~": func(_ *testkit.Dialog, st testkit.Step) error {
			var all []string
			for _, tg := range ts.tele.all() {
				all = append(all, fmt.Sprintf("#%d %s", tg.user, tg.text))
			}
			return testkit.Match(st, "telegrams", strings.Join(all, "\n--\n"))
		},
		"spamlog~": func(_ *testkit.Dialog, st testkit.Step) error {
			return testkit.Match(st, "spam.log", readFile(t, ts.spamLog))
		},
		"log~": func(_ *testkit.Dialog, st testkit.Step) error {
			return testkit.Match(st, "server log", ts.log.String())
		},
		"nolog~": func(_ *testkit.Dialog, st testkit.Step) error {
			if testkit.Match(st, "server log", ts.log.String()) == nil {
				return fmt.Errorf("server log matches")
			}
			return nil
		},
	}
}

// envString renders what a dialog may check of an envelope.
func envString(env *envelope.Envelope) string {
	if env == nil {
		return "<none>"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "from=<%s> helo=%s host=%s proto=%s tls=%v spam=%v auth=%v\n",
		env.ReversePath, env.Helo, env.ClientHost, env.Proto, env.TLS, env.Spam, env.Auth != nil)
	for _, r := range env.Rcpts {
		fmt.Fprintf(&b, "rcpt kind=%s user=%d fp=%s\n%s", r.Kind, r.User, r.ForwardPath, r.Trace)
	}
	return b.String()
}

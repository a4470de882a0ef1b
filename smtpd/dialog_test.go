package smtpd_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bbsmail/bbsmail/ctrl/pattern"
	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/smtpd"
)

// TestDialogs runs every testdata/dialogs/*.txt transcript against its own
// server; the format is described in testdata/dialogs/README.md.
func TestDialogs(t *testing.T) {
	files, err := filepath.Glob("testdata/dialogs/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no dialogs: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			t.Parallel()
			runDialog(t, f)
		})
	}
}

type dialogStep struct {
	line int
	op   string // "C:", "S:", "S~", or a directive name
	arg  string
}

func runDialog(t *testing.T, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	head, steps := parseDialog(t, string(data))
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
	c := ts.dial(t)
	var pending strings.Builder
	flush := func() {
		if pending.Len() > 0 {
			c.send(pending.String())
			pending.Reset()
		}
	}
	for _, st := range steps {
		if st.op == "C:" {
			pending.WriteString(st.arg + "\r\n")
			continue
		}
		flush()
		if err := dialogStepCheck(t, ts, c, st); err != nil {
			t.Fatalf("%s:%d: %s %s: %v", filepath.Base(file), st.line, st.op, st.arg, err)
		}
	}
	flush()
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

// parseDialog splits a transcript into its header knobs and steps.
func parseDialog(t *testing.T, text string) (map[string]string, []dialogStep) {
	head := map[string]string{}
	var steps []dialogStep
	inHead := true
	for i, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		if inHead {
			if line == "---" {
				inHead = false
				continue
			}
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				t.Fatalf("line %d: header line without ':'", i+1)
			}
			head[strings.TrimSpace(k)] = strings.TrimSpace(v)
			continue
		}
		st := dialogStep{line: i + 1}
		switch {
		case len(line) >= 2 && (line[:2] == "C:" || line[:2] == "S:" || line[:2] == "S~"):
			st.op, st.arg = line[:2], strings.TrimPrefix(line[2:], " ")
		case strings.HasPrefix(line, "Cq:"):
			// Go escapes (\x00, \r) for the bytes a text file can't hold.
			arg, err := strconv.Unquote(`"` + strings.TrimPrefix(line[3:], " ") + `"`)
			if err != nil {
				t.Fatalf("line %d: %v", i+1, err)
			}
			st.op, st.arg = "C:", arg
		default:
			op, arg, _ := strings.Cut(line, " ")
			st.op, st.arg = op, arg
		}
		steps = append(steps, st)
	}
	if inHead {
		t.Fatal("no --- line after the header")
	}
	return head, steps
}

// dialogStepCheck runs one expectation or directive.
func dialogStepCheck(t *testing.T, ts *testServer, c *client, st dialogStep) error {
	match := func(what, s string) error {
		re, err := regexp.Compile("(?s)" + st.arg)
		if err != nil {
			return err
		}
		if !re.MatchString(s) {
			return fmt.Errorf("%s does not match; it is:\n%s", what, s)
		}
		return nil
	}
	switch st.op {
	case "S:", "S~":
		line, err := c.readLine()
		if err != nil {
			return fmt.Errorf("read: %q, %w", line, err)
		}
		if st.op == "S:" && line != st.arg {
			return fmt.Errorf("got %q", line)
		}
		if st.op == "S~" {
			if ok, _ := regexp.MatchString("^(?:"+st.arg+")$", line); !ok {
				return fmt.Errorf("got %q", line)
			}
		}
	case "closed":
		if line, err := c.readLine(); err == nil {
			return fmt.Errorf("want close, got %q", line)
		}
	case "starttls":
		c.startTLS(ts.clientTLS)
	case "delivered:":
		if n := ts.drop.count(); strconv.Itoa(n) != st.arg {
			return fmt.Errorf("%d deliveries", n)
		}
	case "msg~":
		_, msg := ts.drop.last()
		return match("last message", string(msg))
	case "env~":
		env, _ := ts.drop.last()
		return match("last envelope", envString(env))
	case "telegrams:":
		if n := len(ts.tele.all()); strconv.Itoa(n) != st.arg {
			return fmt.Errorf("%d telegrams: %+v", n, ts.tele.all())
		}
	case "telegram~":
		var all []string
		for _, tg := range ts.tele.all() {
			all = append(all, fmt.Sprintf("#%d %s", tg.user, tg.text))
		}
		return match("telegrams", strings.Join(all, "\n--\n"))
	case "spamlog~":
		return match("spam.log", readFile(t, ts.spamLog))
	case "log~":
		return match("server log", ts.log.String())
	case "nolog~":
		if match("server log", ts.log.String()) == nil {
			return fmt.Errorf("server log matches")
		}
	default:
		return fmt.Errorf("unknown step")
	}
	return nil
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

package mailproc

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/bbsmail/bbsmail/envelope"
)

func testValues() *specValues {
	return &specValues{
		msg: "/t/S.msg", newMsg: "/t/S.new", list: "/t/S.lst", errFile: "/t/S.err", logFile: "/t/S.log",
		host: "mx.example.org", ip: "192.0.2.7", sender: "Joe O'Hara", senderAddr: "joe@example.org",
		user: 12, reversePath: "joe@example.org", rcpt: "list@bbs.example",
		exec: "/sbbs/exec/", temp: "/sbbs/temp/", data: "/sbbs/data/", ctrl: "/sbbs/ctrl/", text: "/sbbs/text/",
		sysop: "Sysop Sam", qwkID: "TESTBBS", version: "1.0", platform: "Linux",
	}
}

// Every specifier, in either case, as Synchronet expands it (JavaScript
// command lines: no shell quoting).
func TestExpand(t *testing.T) {
	v := testValues()
	cases := []struct{ in, want string }{
		{"%m %f %n %l %e %d", "/t/S.msg /t/S.msg /t/S.new /t/S.lst /t/S.err /t/S.log"},
		{"%M %F %N %L %E %D", "/t/S.msg /t/S.msg /t/S.new /t/S.lst /t/S.err /t/S.log"},
		{"%h %i %s %a %u %r %t", "mx.example.org 192.0.2.7 Joe O'Hara joe@example.org 12 <joe@example.org> list@bbs.example"},
		{"%!x %@x %gx %jx %kx %zx", "/sbbs/exec/x x /sbbs/temp/x /sbbs/data/x /sbbs/ctrl/x /sbbs/text/x"},
		{"%o|%q|%v|%?|%%", "Sysop Sam|TESTBBS|1.0|linux|%"},
		{"%y%b%c unknown", " unknown"},
		{"100%", "100"},
		{"%%m", "%m"},
		{"plain", "plain"},
	}
	for _, c := range cases {
		if got := expand(c.in, v, false); got != c.want {
			t.Errorf("expand(%q) = %q; want %q", c.in, got, c.want)
		}
	}
	v.windows = true
	if got := expand("%@x", v, false); got != "/sbbs/exec/x" {
		t.Errorf("%%@ on Windows = %q", got)
	}
}

// For the shell, the sysop's values are quoted for where they land.
func TestExpandShell(t *testing.T) {
	v := testValues()
	v.sysop = "Sam O'Hara"
	cases := []struct{ in, want string }{
		{"spamc <%m >%n", "spamc </t/S.msg >/t/S.new"},
		{"x %o", `x 'Sam O'\''Hara'`},
		{`x "%o"`, `x "Sam O'Hara"`},
		{`x '%o'`, `x 'Sam O'\''Hara'`},
		{`x \%o`, `x \S'am O'\''Hara'`},
		{"x %y end", "x '' end"},
		{`x "%y"`, `x ""`},
		{"x --from=%a", "x --from=joe@example.org"},
	}
	for _, c := range cases {
		if got := expand(c.in, v, true); got != c.want {
			t.Errorf("expand(%q) = %q; want %q", c.in, got, c.want)
		}
	}
	v.sysop = "a\"$`\\b\r\n"
	if got := expand(`x "%o"`, v, true); got != `x "a\"\$\`+"`"+`\\b"` {
		t.Errorf("double-quoted specials: %q", got)
	}
}

// For the shell, values from the network are inert words wherever they
// land: every character a shell could read as syntax, at any level of
// nesting, is '_'; the reverse path has no angle brackets.
func TestExpandShellNetworkValues(t *testing.T) {
	v := testValues()
	v.sender = "Jürgen O'Hara; $(x) `y` \\ \"q\" <a>|&*?[]{}~#!^()\t\r\n\x00\xff"
	v.host, v.ip, v.rcpt = "<no name>", "fe80::1%eth0", "-rf@bbs.example"
	v.reversePath = "bounce+x=y@list.example"
	cases := []struct{ in, want string }{
		{"x %s", "x J_rgen_O_Hara____x___y_____q___a____________________"},
		{`x "%s"`, `x "J_rgen_O_Hara____x___y_____q___a____________________"`},
		{`x '%s'`, `x 'J_rgen_O_Hara____x___y_____q___a____________________'`},
		{`x \%h`, `x \_no_name_`},
		{"%h %i %t %r", "_no_name_ fe80::1%eth0 _rf@bbs.example bounce+x=y@list.example"},
		{"%H %I %T %R %S %A", "_no_name_ fe80::1%eth0 _rf@bbs.example bounce+x=y@list.example " + inert(v.sender) + " joe@example.org"},
	}
	for _, c := range cases {
		if got := expand(c.in, v, true); got != c.want {
			t.Errorf("expand(%q) = %q; want %q", c.in, got, c.want)
		}
	}
	v.reversePath = ""
	if got := expand("x %r y", v, true); got != "x '' y" {
		t.Errorf("null reverse path: %q; want an empty argument", got)
	}
}

func TestParseRejection(t *testing.T) {
	cases := []struct {
		name, in string
		want     []string
	}{
		{"empty lines only", "\n \r\n", []string{"554 5.7.1 Message rejected"}},
		{"CRLF and blanks", "First\r\n\r\nSecond\r\n", []string{"554-5.7.1 First", "554 5.7.1 Second"}},
		{"enhanced code kept", "550-5.7.1 Listed\n550 5.7.1 Really\n", []string{"550-5.7.1 Listed", "550 5.7.1 Really"}},
		{"enhanced of another class ignored", "550 4.7.1 Odd\n", []string{"550 5.0.0 Odd"}},
		{"code only", "451\n", []string{"451 4.0.0"}},
		{"3xx is text", "354 go ahead\n", []string{"554 5.7.1 354 go ahead"}},
		{"1xx is text", "100 x\n", []string{"554 5.7.1 100 x"}},
		{"digits without separator", "5500 things\n", []string{"554 5.7.1 5500 things"}},
		{"250 accepts", "250 Thanks, filed\n", []string{"250 2.0.0 Thanks, filed"}},
		{"control characters removed", "bad\x00\x1b[31m text\n", []string{"554 5.7.1 bad[31m text"}},
	}
	for _, c := range cases {
		if got := parseRejection([]byte(c.in)).Lines(); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %q; want %q", c.name, got, c.want)
		}
	}
	long := strings.Repeat("x", 1000) + "\n"
	r := parseRejection([]byte(strings.Repeat(long, 50)))
	if len(r.Lines()) != maxRejectLines || len(r.Lines()[0]) > 512-2 {
		t.Errorf("%d lines, first %d bytes", len(r.Lines()), len(r.Lines()[0]))
	}
}

// The recipient list as Synchronet writes it, and read back with its
// defaults.
func TestListRoundTrip(t *testing.T) {
	rcpts := []envelope.Rcpt{
		{Kind: envelope.KindMailbox, To: "Digital Man", User: 2, ForwardPath: `<"forward:digital.man"@bbs.example>`},
		{Kind: envelope.KindRemote, To: "joe@example.org", NetType: envelope.NetInternet, NetAddr: "joe@example.org", ForwardPath: "<joe@example.org> NOTIFY=NEVER"},
		{Kind: envelope.KindRemote, To: "Fred", User: 8, NetType: envelope.NetInternet, NetAddr: "fred@example.net", Forwarded: true},
		{Kind: envelope.KindFido, To: "rob swindell", NetType: envelope.NetFido, NetAddr: "1:103/705", ForwardPath: "<rob.swindell@f705.n103.z1.fidonet>"},
		{Kind: envelope.KindQWK, To: "sysop", NetType: envelope.NetQWK, NetAddr: "VERT", ForwardPath: "<vert!sysop@bbs.example>"},
		{Kind: envelope.KindSub, Sub: "GENERAL"},
		{Kind: envelope.KindProcessor, To: "listserver@bbs.example", ForwardPath: "<listserver@bbs.example>"},
	}
	data, wrote, written := writeList(rcpts)
	want := "[0]\nTo=digital.man@bbs.example\nToExt=2\nSMTPForwardPath=<\"forward:digital.man\"@bbs.example>\n" +
		"[1]\nTo=joe@example.org\nToNetType=5\nToNetAddr=joe@example.org\nSMTPForwardPath=<joe@example.org> NOTIFY=NEVER\n" +
		"[2]\nTo=Fred\nToExt=8\nToNetType=5\nToNetAddr=fred@example.net\n" +
		"[3]\nTo=rob swindell\nToNetType=2\nToNetAddr=1:103/705\nSMTPForwardPath=<rob.swindell@f705.n103.z1.fidonet>\n" +
		"[4]\nTo=sysop\nToNetType=4\nToNetAddr=VERT\nSMTPForwardPath=<vert!sysop@bbs.example>\n" +
		"[5]\nTo=listserver@bbs.example\nSMTPForwardPath=<listserver@bbs.example>\n"
	if string(data) != want {
		t.Fatalf("list\n got %s\nwant %s", data, want)
	}
	if !reflect.DeepEqual(written, []int{0, 1, 2, 3, 4, 6}) {
		t.Fatalf("written %v", written)
	}
	read := ReadList(data)
	if !reflect.DeepEqual(read, wrote) {
		t.Fatalf("read back\n got %+v\nwant %+v", read, wrote)
	}
	s := &Set{}
	got, bad := s.fromList(read, wrote, rcpts, written)
	if len(bad) != 0 || !reflect.DeepEqual(got, []envelope.Rcpt{rcpts[0], rcpts[1], rcpts[2], rcpts[3], rcpts[4], rcpts[6]}) {
		t.Fatalf("recipients %+v, unusable %+v", got, bad)
	}
}

// Entries a processor adds become recipients by ToNetType, or unusable.
func TestNewRcpt(t *testing.T) {
	known := func(n uint32) bool { return n < 100 }
	s := &Set{cfg: Config{KnownUser: known}}
	cases := []struct {
		list   string
		want   envelope.Rcpt
		reason string
	}{
		{"[a]\nToExt=5", envelope.Rcpt{Kind: envelope.KindMailbox, To: "unknown", User: 5}, ""},
		{"[a]\nTo=x\ntoext = 7\nsmtpforwardpath=<x@y>", envelope.Rcpt{Kind: envelope.KindMailbox, To: "x", User: 7, ForwardPath: "<x@y>"}, ""},
		{"[a]\nTo=x\nToExt=500", envelope.Rcpt{}, "no user #500"},
		{"[a]\nTo=x", envelope.Rcpt{}, "without a user number"},
		{"[a]\nToExt=x5", envelope.Rcpt{}, `unreadable ToExt="x5"`},
		{"[a]\nToNetType=5\nToNetAddr=a@b.example", envelope.Rcpt{Kind: envelope.KindRemote, To: "unknown", NetType: envelope.NetInternet, NetAddr: "a@b.example"}, ""},
		{"[a]\nToNetType=5", envelope.Rcpt{}, `not an Internet address: ToNetAddr="#0"`},
		{"[a]\nToNetType=5\nToNetAddr=<a@b>", envelope.Rcpt{}, "not an Internet address"},
		{"[a]\nToNetType=2\nToNetAddr=1:103/705.2", envelope.Rcpt{Kind: envelope.KindFido, To: "unknown", NetType: envelope.NetFido, NetAddr: "1:103/705.2"}, ""},
		{"[a]\nToNetType=2\nToNetAddr=0:103/705", envelope.Rcpt{}, "not a FidoNet address"},
		{"[a]\nToNetType=4\nToNetAddr=VERT/DOVE", envelope.Rcpt{Kind: envelope.KindQWK, To: "unknown", NetType: envelope.NetQWK, NetAddr: "VERT/DOVE"}, ""},
		{"[a]\nToNetType=4", envelope.Rcpt{}, "not a QWKnet route"},
		{"[a]\nToNetType=3\nToNetAddr=x", envelope.Rcpt{}, "unsupported ToNetType=3"},
		{"[a]\nToNetType=-1", envelope.Rcpt{}, "unreadable ToNetType"},
	}
	for _, c := range cases {
		e := ReadList([]byte(c.list))
		if len(e) != 1 {
			t.Fatalf("%q: %d entries", c.list, len(e))
		}
		rc, reason := s.newRcpt(e[0])
		if c.reason != "" {
			if !strings.Contains(reason, c.reason) {
				t.Errorf("%q: reason %q; want %q", c.list, reason, c.reason)
			}
			continue
		}
		if reason != "" || !reflect.DeepEqual(rc, c.want) {
			t.Errorf("%q: %+v %q; want %+v", c.list, rc, reason, c.want)
		}
	}
}

// Synchronet's reading rules: first duplicate key wins, junk and keys
// outside sections are ignored.
func TestReadListRules(t *testing.T) {
	got := ReadList([]byte("To=stray\n; comment\n[0]\nTo=a\nTO=b\njunk\n[broken\n[ 1 ]\n\nToExt = 3 \n"))
	want := []ListEntry{
		{Section: "0", To: "a", ToNetAddr: "#0"},
		{Section: "1", To: "unknown", ToExt: 3, ToNetAddr: "#3"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func FuzzReadList(f *testing.F) {
	f.Add([]byte("[0]\nTo=a@b\nToExt=1\nSMTPForwardPath=<a@b>\n"))
	f.Add([]byte("[x]\nToNetType=5\nToNetAddr=a@b\n[y]\nToNetType=2\nToNetAddr=1:2/3.4\n"))
	f.Add([]byte("[0\n=\n[]\nToExt=99999999999\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &Set{}
		for _, e := range ReadList(data) {
			rc, reason := s.newRcpt(e)
			if reason == "" && rc.Kind == envelope.KindMailbox && rc.User == 0 {
				t.Fatalf("mailbox recipient without a user from %+v", e)
			}
			if reason == "" && rc.Kind == envelope.KindRemote && !strings.Contains(rc.NetAddr, "@") {
				t.Fatalf("remote recipient without an address from %+v", e)
			}
		}
	})
}

// The Socket destination policy: loopback addresses and the hosts the
// sysop wrote in the processor's command line; nothing else.
func TestSocketAddrPolicy(t *testing.T) {
	h := &jsHost{ctx: context.Background(), sysopHosts: sysopWords("spamc.js dest 192.0.2.9 %a")}
	for host, ok := range map[string]bool{
		"127.0.0.1": true, "127.0.0.5": true, "::1": true, "localhost": true, "192.0.2.9": true,
		"192.0.2.10": false, "joe@example.org": false, "%a": false, "example.org": false,
	} {
		_, err := h.socketAddr(host)
		if (err == nil) != ok {
			t.Errorf("socketAddr(%q): %v, want allowed=%v", host, err, ok)
		}
	}
}

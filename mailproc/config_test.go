package mailproc_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bbsmail/bbsmail/mailproc"
)

// The stock Synchronet mailproc.ini loads unchanged: two processors, the
// list server consuming its mail, and a warning that MailAuth (restricted
// by an ARS bbsmail cannot evaluate) will not run.
func TestLoadStock(t *testing.T) {
	t.Parallel()
	stock, err := os.ReadFile(filepath.Join("..", "testdata", "synchronet-stock", "ctrl", "mailproc.ini"))
	if err != nil {
		t.Fatal(err)
	}
	tr := newTree(t)
	tr.write(t, "ctrl/mailproc.ini", string(stock))
	tr.write(t, "exec/mailauth.js", "exit();\n")
	tr.write(t, "exec/listserver.js", "exit();\n")
	s, warns, err := mailproc.Load(tr.config())
	if err != nil {
		t.Fatal(err)
	}
	if s.File() != filepath.Join(tr.ctrl, "mailproc.ini") {
		t.Fatalf("File() = %q", s.File())
	}
	ps := s.Processors()
	if len(ps) != 2 {
		t.Fatalf("%d processors, want 2: %+v", len(ps), ps)
	}
	auth, list := ps[0], ps[1]
	if auth.Name != "MailAuth" || auth.Command != "mailauth.js" || auth.Native || !auth.PassThru ||
		auth.AccessRequirements != "user equal 0 or guest" || auth.Disabled || auth.To != nil {
		t.Errorf("MailAuth = %+v", auth)
	}
	if list.Name != "ListServer" || list.Command != "listserver.js" || list.PassThru ||
		!reflect.DeepEqual(list.To, []string{"listserver", "listserv"}) || !list.ProcessSPAM || !list.ProcessDNSBL {
		t.Errorf("ListServer = %+v", list)
	}
	if len(warns) != 1 || warns[0].Section != "MailAuth" || !strings.Contains(warns[0].String(), "never runs") {
		t.Errorf("warnings %v; want one about MailAuth's access requirements", warns)
	}
	// With an evaluator there is nothing to warn about.
	cfg := tr.config()
	var compiled []string
	cfg.ARS = func(ars string) (func(mailproc.Access) bool, error) {
		compiled = append(compiled, ars)
		return func(mailproc.Access) bool { return true }, nil
	}
	if _, warns, err := mailproc.Load(cfg); err != nil || len(warns) != 0 {
		t.Errorf("with ARS: %v %v", warns, err)
	}
	if !reflect.DeepEqual(compiled, []string{"user equal 0 or guest"}) {
		t.Errorf("compiled %q", compiled)
	}
}

// An access requirement the evaluator cannot read stops the server with
// the place it was written.
func TestLoadBadARS(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	tr.write(t, "ctrl/mailproc.ini", "[A]\nCommand=a.js\n\n  AccessRequirements = LEVEL\n")
	cfg := tr.config()
	cfg.ARS = func(ars string) (func(mailproc.Access) bool, error) {
		return nil, errors.New("LEVEL needs a number")
	}
	_, _, err := mailproc.Load(cfg)
	if err == nil || err.Error() != "mailproc.ini:4: [A] AccessRequirements: LEVEL needs a number" {
		t.Fatalf("Load = %v", err)
	}
}

// A broken file stops the server with the file, line, section and key.
func TestLoadBroken(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, ini, want string }{
		{"bad boolean", "[List]\nCommand=x.js\nPassThru = maybe\n",
			`mailproc.ini:3: [List] PassThru: invalid boolean "maybe" (want true or false)`},
		{"bad native", "[A]\n  native=si\n", `mailproc.ini:2: [A] native: invalid boolean "si"`},
		{"bad CIDR in To", "[A]\nTo = joe, 10.0.0.0/99\n", `mailproc.ini:2: [A] To: pattern: line 2: invalid CIDR prefix length "99"`},
		{"bad From", "[A]\nFrom=\tbad\te=never\n", `mailproc.ini:2: [A] From: pattern:`},
		{"unclosed section", "[A]\nCommand=x\n[B\n", `mailproc.ini:3: section header without ']'`},
		{"junk line", "[A]\nCommand=x\njust words\n", `mailproc.ini:3: [A]: line is not "key = value": "just words"`},
		{"unknown directive", "!frobnicate\n", `mailproc.ini:1: unknown directive "!frobnicate"`},
		{"script named by the sender", "[A]\nCommand = %s.js x\n", `mailproc.ini:2: [A] Command: the script name`},
		{"script named by the host", "[A]\nCommand = %!%H\n", `mailproc.ini:2: [A] Command: the script name`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tr := newTree(t)
			tr.write(t, "ctrl/mailproc.ini", c.ini)
			_, _, err := mailproc.Load(tr.config())
			var me *mailproc.Error
			if !errors.As(err, &me) {
				t.Fatalf("Load = %v; want a *mailproc.Error", err)
			}
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("error\n got %q\nwant %q...", err, c.want)
			}
		})
	}
}

// Keys and booleans are read the way Synchronet reads them.
func TestLoadKeys(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	tr.write(t, "ctrl/mailproc.ini", `; comment
Stray = 1
[spamc -f]
	NATIVE = Yes
	passthru = off ; trailing words are ignored
	IgnoreOnError=1
	processspam = NO
	ProcessDNSBL=
	Disabled = on
	Colour = blue
	native = false
[Filter]
	Eval = log("hi")
	To = !joe, *@bbs.example.org
	From = *@example.org
[Filter]
	Command = second.js
`)
	s, warns, err := mailproc.Load(tr.config())
	if err != nil {
		t.Fatal(err)
	}
	ps := s.Processors()
	if len(ps) != 2 {
		t.Fatalf("processors %+v", ps)
	}
	p := ps[0]
	if p.Command != "spamc -f" || !p.Native || p.PassThru || !p.IgnoreOnError || p.ProcessSPAM || !p.ProcessDNSBL || !p.Disabled {
		t.Errorf("first processor %+v", p)
	}
	f := ps[1]
	if f.Command != "Filter" || f.Eval != `log("hi")` || len(f.To) != 2 || f.From[0] != "*@example.org" || f.Line != 12 {
		t.Errorf("second processor %+v", f)
	}
	var got []string
	for _, w := range warns {
		got = append(got, w.String())
	}
	want := []string{
		"mailproc.ini:2: Stray: key outside any [processor] section is ignored",
		"mailproc.ini:10: [spamc -f] Colour: unknown key is ignored",
		"mailproc.ini:16: [Filter]: duplicate processor section is ignored",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("warnings\n got %q\nwant %q", got, want)
	}
}

// The most specific file wins: host name, short host name, platform,
// local, then mailproc.ini. No file at all means no processors.
func TestLoadFileChoice(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	cfg := tr.config()
	s, warns, err := mailproc.Load(cfg)
	if err != nil || s.Len() != 0 || s.File() != "" || warns != nil {
		t.Fatalf("no file: %v %v %v", s.Processors(), warns, err)
	}
	order := []string{"mailproc.bbs.example.org.ini", "mailproc.bbs.ini", "mailproc.linux.ini", "mailproc.local.ini", "mailproc.ini"}
	var want []string
	for _, n := range order {
		want = append(want, filepath.Join(tr.ctrl, n))
	}
	if got := mailproc.Candidates(cfg); !reflect.DeepEqual(got, want) {
		t.Fatalf("Candidates = %q", got)
	}
	// Create them from the least specific up; each new one takes over.
	for i := len(order) - 1; i >= 0; i-- {
		tr.write(t, "ctrl/"+order[i], "["+order[i]+"]\n")
		s, _, err := mailproc.Load(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if s.File() != want[i] || s.Processors()[0].Name != order[i] {
			t.Fatalf("with %s present, loaded %s", order[i], s.File())
		}
	}
}

// A JavaScript processor whose script is missing or does not compile is
// reported when mailproc.ini is loaded, naming the file, the section and
// the line of its Command; disabled and native processors are not looked
// at. The set still loads.
func TestLoadReportsScripts(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	tr.write(t, "exec/good.js", "log('fine');\n")
	tr.write(t, "mods/broken.js", "function (\n")
	s, warns, err := mailproc.Load(func() mailproc.Config {
		tr.write(t, "ctrl/mailproc.ini", `[Good]
	Command = good.js argument
[Missing]
	Command = missing.js
[Broken]
	Command = broken
[BadEval]
	Eval = if (
[Off]
	Command = gone.js
	Disabled = true
[Native]
	Native = true
	Command = no-such-program
[Absolute]
	Command = %!elsewhere/x.js
`)
		return tr.config()
	}())
	if err != nil || s.Len() != 7 {
		t.Fatalf("Load: %d processors, %v", s.Len(), err)
	}
	var got []string
	for _, w := range warns {
		got = append(got, w.String())
	}
	want := []string{
		"mailproc.ini:4: [Missing] Command: script missing.js not found in " + tr.mods + "/ or " + tr.exec + "/: the processor fails on every message",
		"mailproc.ini:6: [Broken] Command: script " + filepath.Join(tr.mods, "broken.js") + " does not compile: ",
		"mailproc.ini:8: [BadEval] Eval: script [BadEval] Eval does not compile: ",
		"mailproc.ini:16: [Absolute] Command: script " + tr.exec + "/elsewhere/x.js not found: the processor fails on every message",
	}
	if len(got) != len(want) {
		t.Fatalf("warnings\n got %q\nwant %q", got, want)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("warning %d\n got %q\nwant %q...", i, got[i], want[i])
		}
	}
}

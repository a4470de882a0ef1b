package mailproc_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/mailproc"
)

// A processor that writes a new message text (.new) changes what is
// stored; the recipients come back as they were, traces included.
func TestNativeRewritesMessage(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	tr.write(t, "exec/tag.sh", "#!/bin/sh\n{ printf 'X-Tagged: yes\\n'; cat \"$1\"; } > \"$2\"\n")
	s := tr.load(t, "[Tag]\nNative=true\nCommand=%!tag.sh %m %n\n", nil)
	out := run(t, s, input(user1, user2))
	want := "X-Tagged: yes\r\n" + testMsg
	if string(out.Text) != want || !out.TextChanged {
		t.Fatalf("text %q (changed %v); want %q", out.Text, out.TextChanged, want)
	}
	if out.Consumed || out.Reject != nil || len(out.Failed) != 0 {
		t.Fatalf("outcome %+v", out)
	}
	if !reflect.DeepEqual(out.Rcpts, []envelope.Rcpt{user1, user2}) {
		t.Fatalf("recipients %+v", out.Rcpts)
	}
	tr.noTempFiles(t)
}

// A processing error file rejects the message with one well-formed
// multi-line reply, whether or not its lines carry codes.
func TestNativeRejects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, content string
		want          []string
	}{
		{"plain lines", `Spam detected\nScore 12.5\n`, []string{"554-5.7.1 Spam detected", "554 5.7.1 Score 12.5"}},
		{"one coded line", `550 5.7.1 No thanks\n`, []string{"550 5.7.1 No thanks"}},
		{"mixed", `451-Greylisted\nTry again in 5 minutes\n`, []string{"451-4.0.0 Greylisted", "451 4.0.0 Try again in 5 minutes"}},
		{"codes disagree", `550 first\n554 second\n`, []string{"550-5.0.0 first", "550 5.0.0 second"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tr := newTree(t)
			s := tr.load(t, "[Spam]\nNative=yes\nCommand=printf '"+c.content+"' > %e\n[Never]\nNative=yes\nCommand=touch %jnever\n", nil)
			out := run(t, s, input(user1))
			if out.Reject == nil || out.By != "Spam" {
				t.Fatalf("not rejected: %+v", out)
			}
			if got := out.Reject.Lines(); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("reply\n got %q\nwant %q", got, c.want)
			}
			if _, err := os.Stat(filepath.Join(tr.data, "never")); err == nil {
				t.Fatal("a processor after the rejecting one ran")
			}
			tr.noTempFiles(t)
		})
	}
}

// Deleting the message file or the recipient list, or PassThru=false,
// consumes the message: nothing is stored, for anyone, and the processors
// after it do not run.
func TestNativeConsumes(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, proc, reason string }{
		{"message deleted", "Native=true\nCommand=rm %m", "removed the message text"},
		{"list deleted", "Native=true\nCommand=rm %l", "removed the recipient list"},
		{"PassThru=false", "Native=true\nCommand=true\nPassThru=false", "PassThru=false"},
		{"IgnoreOnError", "Native=true\nCommand=exit 3\nIgnoreOnError=true", "failed with IgnoreOnError set"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tr := newTree(t)
			s := tr.load(t, "[Eat]\n"+c.proc+"\n[After]\nNative=true\nCommand=touch %jafter\n", nil)
			out := run(t, s, input(user1, user2))
			if !out.Consumed || out.By != "Eat" || !strings.HasPrefix(out.Reason, c.reason) || out.Rcpts != nil || out.Reject != nil {
				t.Fatalf("outcome %+v; want consumed by Eat (%s)", out, c.reason)
			}
			if _, err := os.Stat(filepath.Join(tr.data, "after")); err == nil {
				t.Fatal("a processor after the consuming one ran")
			}
			tr.noTempFiles(t)
		})
	}
}

// A failing processor without IgnoreOnError is logged and the message
// goes on to the next processor and to its recipients.
func TestNativeFailureContinues(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	s := tr.load(t, "[Broken]\nNative=true\nCommand=echo oops; exit 2\n[Next]\nNative=true\nCommand=touch %jnext\n", nil)
	out := run(t, s, input(user1))
	if out.Consumed || out.Reject != nil || !reflect.DeepEqual(out.Rcpts, []envelope.Rcpt{user1}) {
		t.Fatalf("outcome %+v", out)
	}
	if len(out.Failed) != 1 || out.Failed[0].Processor != "Broken" || !strings.Contains(out.Failed[0].Err.Error(), "returned 2") {
		t.Fatalf("failures %+v", out.Failed)
	}
	if _, err := os.Stat(filepath.Join(tr.data, "next")); err != nil {
		t.Fatal("the next processor did not run")
	}
	if log := tr.log.String(); !strings.Contains(log, "External mail processor output: oops") {
		t.Fatalf("the processor's output was not logged:\n%s", log)
	}
}

// Text the processors leave as it was is handed back as the caller's own
// slice, not read back into a second copy (a large message would be held
// twice); a failed processor's text is put back the same way.
func TestUnchangedTextNotCopied(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	for _, ini := range []string{
		"[Look]\nNative=true\nCommand=cat %m > /dev/null\n",
		"[Half]\nNative=true\nCommand=head -c 20 %m > %m.tmp; mv %m.tmp %m; exit 3\n[Look]\nNative=true\nCommand=true\n",
	} {
		s := tr.load(t, ini, nil)
		in := input(user1)
		out := run(t, s, in)
		if out.TextChanged || len(out.Text) != len(in.Text) || &out.Text[0] != &in.Text[0] {
			t.Errorf("%q: text changed %v, same slice %v; want the caller's text itself", ini, out.TextChanged,
				len(out.Text) > 0 && &out.Text[0] == &in.Text[0])
		}
	}
	tr.noTempFiles(t)
}

// Processors edit the recipient list: a section added for a user number
// becomes a mailbox recipient, a removed section's recipient gets nothing.
func TestNativeEditsRecipients(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	s := tr.load(t, `
[Add]
	Native = true
	Command = printf '[extra]\nTo=olga@bbs.example.org\nToExt=11\nSMTPForwardPath=<olga@bbs.example.org>\n[far]\nTo=x\nToNetType=5\nToNetAddr=x@far.example\n[bad]\nTo=nobody\n' >> %l
[DropFirst]
	Native = true
	Command = sed -n '/^\[1\]/,$p' %l > %l.tmp && mv %l.tmp %l
`, nil)
	out := run(t, s, input(user1, user2))
	want := []envelope.Rcpt{
		user2,
		{Kind: envelope.KindMailbox, To: "olga@bbs.example.org", User: 11, ForwardPath: "<olga@bbs.example.org>"},
		{Kind: envelope.KindRemote, To: "x", NetType: envelope.NetInternet, NetAddr: "x@far.example"},
	}
	if !reflect.DeepEqual(out.Rcpts, want) {
		t.Fatalf("recipients\n got %+v\nwant %+v", out.Rcpts, want)
	}
	if len(out.Unusable) != 1 || out.Unusable[0].Entry.Section != "bad" || !strings.Contains(out.Unusable[0].Reason, "without a user number") {
		t.Fatalf("unusable %+v", out.Unusable)
	}
	tr.noTempFiles(t)
}

// Which processors run: To needs a recipient that matched at RCPT time,
// From is matched against the sender address, and Disabled, ProcessDNSBL
// and ProcessSPAM exclude.
func TestSelection(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	s := tr.load(t, `
[All]
	Native = true
	Command = true
[ForList]
	Native = true
	Command = true
	To = listserver
[FromExample]
	Native = true
	Command = true
	From = *@example.org
[FromElsewhere]
	Native = true
	Command = true
	From = *@elsewhere.example
[Off]
	Native = true
	Command = true
	Disabled = true
[NoDNSBL]
	Native = true
	Command = true
	ProcessDNSBL = false
[NoSpam]
	Native = true
	Command = true
	ProcessSPAM = false
`, nil)
	marked := user2
	marked.Processors = []string{"ForList"}
	cases := []struct {
		name  string
		setup func(*mailproc.Input)
		want  []string
	}{
		{"plain", func(*mailproc.Input) {}, []string{"All", "FromExample", "NoDNSBL", "NoSpam"}},
		{"recipient matched To", func(in *mailproc.Input) { in.Env.Rcpts = []envelope.Rcpt{user1, marked} },
			[]string{"All", "ForList", "FromExample", "NoDNSBL", "NoSpam"}},
		{"listed client", func(in *mailproc.Input) { in.Listed = true }, []string{"All", "FromExample", "NoSpam"}},
		{"spam", func(in *mailproc.Input) { in.Env.Spam = true }, []string{"All", "FromExample", "NoDNSBL"}},
		{"bait", func(in *mailproc.Input) { in.Bait = true }, []string{"All", "FromExample", "NoDNSBL"}},
		{"other sender", func(in *mailproc.Input) { in.SenderAddr = "Ann@Elsewhere.Example" }, []string{"All", "FromElsewhere", "NoDNSBL", "NoSpam"}},
	}
	for _, c := range cases {
		in := input(user1)
		c.setup(&in)
		out := run(t, s, in)
		if !reflect.DeepEqual(out.Ran, c.want) {
			t.Errorf("%s: ran %v; want %v", c.name, out.Ran, c.want)
		}
	}
}

// A processor that never ends is killed, with the processes it started,
// at the time limit; the run returns and counts it as failed. Running out
// of time is not an error exit: IgnoreOnError does not drop the message
// for it, and the message goes on unchanged.
func TestNativeTimeLimit(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	s := tr.load(t, "[Hang]\nNative=true\nCommand=sleep 600 & sleep 600\n[Drop]\nNative=true\nCommand=sleep 600\nIgnoreOnError=true\n",
		func(c *mailproc.Config) { c.Timeout = 200 * time.Millisecond })
	in := input(user1)
	out := run(t, s, in)
	if len(out.Failed) != 2 || !errors.Is(out.Failed[0].Err, mailproc.ErrTimeout) || !errors.Is(out.Failed[1].Err, mailproc.ErrTimeout) {
		t.Fatalf("failures %+v; want two time-limit failures", out.Failed)
	}
	if out.Consumed || out.Reject != nil || !bytes.Equal(out.Text, in.Text) || !reflect.DeepEqual(out.Rcpts, []envelope.Rcpt{user1}) {
		t.Fatalf("after two processors ran out of time: %+v, want the message unchanged", out)
	}
	tr.noTempFiles(t)
}

// A failing processor changes nothing: the text it half wrote to the new
// message file and the recipients it half edited are undone. When the
// failing processor is one that would take the message (PassThru=false),
// the client is told to try again later instead of losing the message;
// a non-zero exit with IgnoreOnError still drops it, as the sysop asked.
func TestFailedProcessorChangesNothing(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	half := "[Half]\nNative=true\nCommand=head -c 20 %m > %n; printf '[9]\\nTo=x\\n' >> %l; exit 3\n"
	s := tr.load(t, half, nil)
	in := input(user1)
	out := run(t, s, in)
	if len(out.Failed) != 1 || out.Consumed || out.Reject != nil {
		t.Fatalf("outcome %+v, want one failure and the message going on", out)
	}
	if !bytes.Equal(out.Text, in.Text) || !reflect.DeepEqual(out.Rcpts, []envelope.Rcpt{user1}) {
		t.Fatalf("after a failed processor: text %q rcpts %+v, want both unchanged", out.Text, out.Rcpts)
	}

	for _, c := range []struct{ ini, want string }{
		{"[Take]\nNative=true\nCommand=exit 3\nPassThru=false\n", "451 4.3.0 Mail processor unavailable, try again later"},
		{"[Take]\nEval=undefinedThing();\nPassThru=false\n", "451 4.3.0 Mail processor unavailable, try again later"},
		{"[Take]\nNative=true\nCommand=sleep 600\nPassThru=false\n", "451 4.3.0 Mail processor unavailable, try again later"},
	} {
		s := tr.load(t, c.ini, func(c *mailproc.Config) { c.Timeout = 200 * time.Millisecond })
		out := run(t, s, input(user1))
		if out.Consumed || out.Reject == nil || strings.Join(out.Reject.Lines(), "|") != c.want {
			t.Errorf("%q: outcome %+v, want %q", c.ini, out, c.want)
		}
	}
	s = tr.load(t, "[Drop]\nNative=true\nCommand=exit 3\nIgnoreOnError=true\nPassThru=false\n", nil)
	if out := run(t, s, input(user1)); !out.Consumed || out.By != "Drop" {
		t.Errorf("IgnoreOnError with exit 3: %+v, want the message dropped", out)
	}
	tr.noTempFiles(t)
}

// The command-line specifiers reach a real process, one argument each,
// whatever the values hold: the sysop's values as they are, the values
// from the network as inert words (the reverse path without brackets).
func TestNativeSpecifiers(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	tr.write(t, "exec/args.sh", "#!/bin/sh\nout=$1; shift\nfor a in \"$@\"; do printf '[%s]\\n' \"$a\"; done > \"$out\"\n")
	s := tr.load(t, "[Args]\nNative=true\nCommand=%!args.sh %jargs.out %H %i %s %a %u %r %t %o %q %v %? %% %x \"%s\" '%a' %G\n", nil)
	in := input(user1)
	in.Env.Auth = &envelope.Identity{User: 7}
	in.SenderName = "Joe 'Quote' $(Sender)"
	run(t, s, in)
	got, err := os.ReadFile(filepath.Join(tr.data, "args.out"))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{"[mx.example.org]", "[192.0.2.7]", "[Joe__Quote____Sender_]", "[joe@example.org]", "[7]",
		"[joe@example.org]", "[sysop@bbs.example.org]", "[Sysop Sam]", "[TESTBBS]", "[1.0]", "[linux]", "[%]", "[]",
		"[Joe__Quote____Sender_]", "[joe@example.org]", "[" + tr.temp + "/]"}, "\n") + "\n"
	if string(got) != want {
		t.Fatalf("arguments\n got %s\nwant %s", got, want)
	}
}

// Addresses and names from the network cannot run commands through a
// native processor's command line, quoted by the sysop or not.
func TestNativeNoInjection(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	s := tr.load(t, "[Echo]\nNative=true\nCommand=echo %s \"%s\" '%s' \\%s %a \"%a\" '%a' >/dev/null\n", nil)
	pwned := filepath.Join(tr.data, "pwned")
	payloads := []string{
		"$(touch " + pwned + ")", "`touch " + pwned + "`", "x; touch " + pwned,
		"x' ; touch " + pwned + " ; '", `x" ; touch ` + pwned + ` ; "`, "\\\" ; touch " + pwned + " #",
		"x\ntouch " + pwned, "'",
	}
	for _, p := range payloads {
		in := input(user1)
		in.SenderName, in.SenderAddr = p, p+"@example.org"
		out := run(t, s, in)
		if len(out.Failed) != 0 {
			t.Errorf("payload %q broke the command line: %v", p, out.Failed)
		}
		if _, err := os.Stat(pwned); err == nil {
			t.Fatalf("payload %q ran a command", p)
		}
	}
}

// The files are private to the server, the debug log (.log) goes to the
// server log, and each processor sees the text the previous one wrote.
func TestNativeFiles(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	s := tr.load(t, `
[First]
	Native = true
	Command = stat -c %%a %m %l > %jmodes; basename %m > %jname; { echo 'X-First: 1'; cat %m; } > %n; echo "debug line" > %d
[Second]
	Native = true
	Command = grep -c X-First %m > %jsaw; test -e %d && echo stale > %jstale; true
`, nil)
	run(t, s, input(user1))
	read := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(tr.data, name))
		return strings.TrimSpace(string(b))
	}
	if m := strings.Fields(read("modes")); !reflect.DeepEqual(m, []string{"600", "600"}) {
		t.Fatalf("file modes %q; want 600 for the message and the list", m)
	}
	if n := read("name"); !strings.HasPrefix(n, "SBBS_SMTP.") || !strings.HasSuffix(n, ".msg") {
		t.Fatalf("message file name %q", n)
	}
	if read("saw") != "1" {
		t.Fatal("the second processor did not see the first one's new text")
	}
	if read("stale") != "" {
		t.Fatal("the debug log was not removed after the first processor")
	}
	if !strings.Contains(tr.log.String(), "External mail processor debug: debug line") {
		t.Fatalf("debug log not copied:\n%s", tr.log.String())
	}
	tr.noTempFiles(t)
}

// A recipient captured for a processor that does not take the message
// (its From does not match) is refused instead of vanishing, alongside
// other recipients too: after a 250 the sender would never learn the
// captured address got nothing. A processor gone since RCPT (a reload)
// is worth a retry.
func TestCapturedButNotTaken(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	s := tr.load(t, "[List]\nNative=true\nCommand=true\nTo=listserver\nPassThru=false\nFrom=*@members.example\n", nil)
	list := envelope.Rcpt{Kind: envelope.KindProcessor, To: "listserver@bbs.example.org",
		ForwardPath: "<listserver@bbs.example.org>", Processors: []string{"List"}}
	out := run(t, s, input(list))
	if out.Reject == nil || !reflect.DeepEqual(out.Reject.Lines(), []string{"550 5.1.1 Unknown User: <listserver@bbs.example.org>"}) {
		t.Fatalf("outcome %+v", out)
	}
	out = run(t, s, input(user1, list))
	if out.Reject == nil || out.Consumed || !reflect.DeepEqual(out.Reject.Lines(), []string{"550 5.1.1 Unknown User: <listserver@bbs.example.org>"}) {
		t.Fatalf("outcome %+v", out)
	}
	gone := list
	gone.Processors = []string{"Renamed"}
	if out := run(t, s, input(user1, gone)); out.Reject == nil || out.Reject.Code != 451 {
		t.Fatalf("captured for a processor that is gone: %+v, want 451", out)
	}
	// From a member, the list server takes it.
	in := input(user1, list)
	in.SenderAddr = "ann@members.example"
	out = run(t, s, in)
	if !out.Consumed || out.By != "List" {
		t.Fatalf("member's mail: %+v", out)
	}
}

// Without processors that apply, Run leaves the message alone and writes
// nothing; sub-board posts pass untouched even when processors run.
func TestNothingToRun(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	s := tr.load(t, "[List]\nNative=true\nCommand=touch %jran\nTo=listserver\n", nil)
	in := input(user1)
	out := run(t, s, in)
	if string(out.Text) != testMsg || out.TextChanged || !reflect.DeepEqual(out.Rcpts, []envelope.Rcpt{user1}) || len(out.Ran) != 0 {
		t.Fatalf("outcome %+v", out)
	}
	if _, err := os.Stat(filepath.Join(tr.data, "ran")); err == nil {
		t.Fatal("processor ran")
	}
	if ents, _ := os.ReadDir(tr.temp); len(ents) != 0 {
		t.Fatalf("temporary directory used: %v", ents)
	}

	var none *mailproc.Set
	if out := run(t, none, in); string(out.Text) != testMsg || !reflect.DeepEqual(out.Rcpts, []envelope.Rcpt{user1}) {
		t.Fatalf("nil set: %+v", out)
	}

	s = tr.load(t, "[Wipe]\nNative=true\nCommand=: > %l\n", nil)
	sub := envelope.Rcpt{Kind: envelope.KindSub, Sub: "GENERAL", ForwardPath: "<sub:general@bbs.example.org>"}
	out = run(t, s, input(user1, sub))
	if !reflect.DeepEqual(out.Rcpts, []envelope.Rcpt{sub}) || out.Consumed {
		t.Fatalf("sub-board post: %+v", out)
	}
	out = run(t, s, input(user1))
	if !out.Consumed || out.Reason != "no recipients left" {
		t.Fatalf("emptied list: %+v", out)
	}
}

// Run stops when the server does, and reports it: a processor killed on
// the way out is no reason to drop the message (IgnoreOnError).
func TestRunCancelled(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	s := tr.load(t, "[Wait]\nNative=true\nCommand=sleep 600\nIgnoreOnError=true\n[Next]\nNative=true\nCommand=true\n", nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Cancel once the processor is running (its .msg file exists), or
		// after a while in any case so that the test cannot hang.
		defer cancel()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if m, _ := filepath.Glob(filepath.Join(tr.temp, "*.msg")); len(m) > 0 {
				return
			}
		}
	}()
	_, err := s.Run(ctx, input(user1))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v; want context.Canceled", err)
	}
	tr.noTempFiles(t)
}

// AccessRequirements decide per message, from the sender and client; a
// restricted processor never runs without an evaluator.
func TestSelectionAccess(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	ini := "[Members]\nNative=true\nCommand=true\nAccessRequirements=NOT USER 0\n[Open]\nNative=true\nCommand=true\n"
	s := tr.load(t, ini, func(c *mailproc.Config) {
		c.ARS = func(string) (func(mailproc.Access) bool, error) {
			return func(a mailproc.Access) bool { return a.User != 0 && a.IP == "192.0.2.7" && a.Protocol == "SMTP" }, nil
		}
	})
	in := input(user1)
	if out := run(t, s, in); !reflect.DeepEqual(out.Ran, []string{"Open"}) {
		t.Errorf("unauthenticated: ran %v", out.Ran)
	}
	in.Env.Auth = &envelope.Identity{User: 7}
	if out := run(t, s, in); !reflect.DeepEqual(out.Ran, []string{"Members", "Open"}) {
		t.Errorf("authenticated: ran %v", out.Ran)
	}
	in.Env.TLS = true
	if out := run(t, s, in); !reflect.DeepEqual(out.Ran, []string{"Open"}) {
		t.Errorf("over TLS (SMTPS): ran %v", out.Ran)
	}
	noEval := tr.load(t, ini, nil)
	in.Env.TLS = false
	if out := run(t, noEval, in); !reflect.DeepEqual(out.Ran, []string{"Open"}) {
		t.Errorf("without an evaluator: ran %v", out.Ran)
	}
}

// One Set serves concurrent sessions: each run has its own files and
// script engine.
func TestConcurrentRuns(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	s := tr.load(t, `
[Native]
	Native = true
	Command = { echo "X-Rcpt: %t"; cat %m; } > %n
[Script]
	Eval = var f = new File(message_text_filename); f.open("a"); f.write("-- " + recipient_address + "\r\n"); f.close();
`, nil)
	const n = 8
	errs := make(chan error, n)
	for i := range n {
		go func() {
			in := input(user1)
			in.LastRcpt = strings.Repeat("x", i+1) + "@bbs.example.org"
			out, err := s.Run(context.Background(), in)
			if err == nil {
				want := "X-Rcpt: " + in.LastRcpt + "\r\n" + testMsg + "-- " + in.LastRcpt + "\r\n"
				if string(out.Text) != want || len(out.Failed) != 0 {
					err = errors.New("run " + in.LastRcpt + ": got " + string(out.Text))
				}
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	tr.noTempFiles(t)
}

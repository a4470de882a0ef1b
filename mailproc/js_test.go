package mailproc_test

import (
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

// An Eval processor reads the message with File and writes a new text.
func TestJSEvalRewrites(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	s := tr.load(t, `[Rewrite]
Eval = var f = new File(message_text_filename); f.open("r"); var t = f.read(); f.close(); var n = new File(new_message_text_filename); n.open("w"); n.write(t.replace("Subject: hello", "Subject: [list] hello")); n.close();
`, nil)
	out := run(t, s, input(user1))
	if want := strings.Replace(testMsg, "Subject: hello", "Subject: [list] hello", 1); string(out.Text) != want {
		t.Fatalf("text %q; want %q", out.Text, want)
	}
	if len(out.Failed) != 0 || !reflect.DeepEqual(out.Rcpts, []envelope.Rcpt{user1}) {
		t.Fatalf("outcome %+v", out)
	}
	tr.noTempFiles(t)
}

// A script named without a directory is found in mods/ before exec/, and
// ".js" is added to a name without an extension.
func TestJSModsOverridesExec(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	mark := func(who string) string {
		return `var o = new File(system.data_dir + "which"); o.open("w"); o.write("` + who + `"); o.close();`
	}
	tr.write(t, "exec/which.js", mark("exec"))
	tr.write(t, "mods/which.js", mark("mods"))
	s := tr.load(t, "[Which]\nCommand=which\n", nil)
	which := func() string {
		b, err := os.ReadFile(filepath.Join(tr.data, "which"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	run(t, s, input(user1))
	if w := which(); w != "mods" {
		t.Fatalf("ran the %s script; want mods", w)
	}
	if err := os.Remove(filepath.Join(tr.mods, "which.js")); err != nil {
		t.Fatal(err)
	}
	run(t, s, input(user1))
	if w := which(); w != "exec" {
		t.Fatalf("ran the %s script; want exec", w)
	}
}

// A script reads the message line by line, writes a new text and a
// processing error; the globals carry the session's values.
func TestJSScriptContract(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	tr.write(t, "exec/check.js", `
var f = new File(message_text_filename);
if (!f.open("r")) throw new Error("cannot open " + message_text_filename);
var lines = [];
var line;
while ((line = f.readln()) !== null) lines.push(line);
f.close();
var n = new File(new_message_text_filename);
n.open("w");
n.writeln("X-Checked-By: " + argv.join(","));
n.writeAll(lines);
n.close();
var e = new File(processing_error_filename);
e.open("w");
e.writeln("Rejected for " + recipient_address);
e.writeln("550 5.7.1 by " + sender_name + " " + sender_address + " " + reverse_path + " " + hello_name + " " + argc);
e.close();
sender_address = "changed"; // read-only: ignored
if (sender_address != "joe@example.org" || js.terminated || system.temp_dir.slice(-1) != "/") exit(1);
`)
	s := tr.load(t, "[Check]\nCommand=check one two\n", nil)
	out := run(t, s, input(user1))
	if len(out.Failed) != 0 {
		t.Fatalf("script failed: %v\n%s", out.Failed, tr.log.String())
	}
	want := []string{"550-5.7.1 Rejected for sysop@bbs.example.org",
		"550 5.7.1 by Joe Sender joe@example.org <joe@example.org> mx.example.org 2"}
	if out.Reject == nil || !reflect.DeepEqual(out.Reject.Lines(), want) {
		t.Fatalf("reply %+v; want %q", out.Reject, want)
	}
	tr.noTempFiles(t)
}

// The new text written with writeln goes on with CRLF line ends, and 8-bit
// bytes survive a script unchanged.
func TestJSEightBitAndLineEnds(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	s := tr.load(t, `[Copy]
Eval = var f = new File(message_text_filename); f.open("r"); var l = f.readAll(); f.close(); var n = new File(new_message_text_filename); n.open("w"); n.writeAll(l); n.close();
`, nil)
	in := input(user1)
	in.Text = []byte("Subject: caf\xe9 caf\xc3\xa9\r\n\r\nbody \xff\r\n")
	out := run(t, s, in)
	if string(out.Text) != string(in.Text) {
		t.Fatalf("text %q; want %q", out.Text, in.Text)
	}
}

// exit() ends a script at once; exit(0) is success, exit(n) a failure.
func TestJSExit(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	s := tr.load(t, `
[Zero]
Eval = log("before zero"); exit(); log("after zero");
[Three]
Eval = exit(3); log("after three");
[Next]
Eval = log("next ran");
`, nil)
	out := run(t, s, input(user1))
	if len(out.Failed) != 1 || out.Failed[0].Processor != "Three" || !strings.Contains(out.Failed[0].Err.Error(), "exit(3)") {
		t.Fatalf("failures %+v", out.Failed)
	}
	log := tr.log.String()
	if !strings.Contains(log, "before zero") || strings.Contains(log, "after") || !strings.Contains(log, "next ran") {
		t.Fatalf("log:\n%s", log)
	}
}

// A script that never ends is stopped at the time limit.
func TestJSTimeLimit(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	s := tr.load(t, "[Loop]\nEval = while (true) {}\n[Next]\nEval = log(\"next ran\")\n",
		func(c *mailproc.Config) { c.Timeout = 200 * time.Millisecond })
	out := run(t, s, input(user1))
	if len(out.Failed) != 1 || !errors.Is(out.Failed[0].Err, mailproc.ErrTimeout) {
		t.Fatalf("failures %+v", out.Failed)
	}
	if !reflect.DeepEqual(out.Ran, []string{"Loop", "Next"}) || !reflect.DeepEqual(out.Rcpts, []envelope.Rcpt{user1}) {
		t.Fatalf("outcome %+v", out)
	}
}

// A script using host objects bbsmail does not provide fails with a
// ReferenceError that is logged; the session and the other processors go
// on.
func TestJSMissingHostObject(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	s := tr.load(t, "[Old]\nEval = var u = new User(1); u.alias;\n[Next]\nEval = log(\"next ran\")\n", nil)
	out := run(t, s, input(user1))
	if len(out.Failed) != 1 || !strings.Contains(out.Failed[0].Err.Error(), "ReferenceError: User is not defined") {
		t.Fatalf("failures %+v", out.Failed)
	}
	if log := tr.log.String(); !strings.Contains(log, "User is not defined") || !strings.Contains(log, "next ran") {
		t.Fatalf("log:\n%s", log)
	}
	if !reflect.DeepEqual(out.Rcpts, []envelope.Rcpt{user1}) {
		t.Fatalf("recipients %+v", out.Rcpts)
	}
}

// load() finds helper scripts in exec/load/ and refuses files outside
// exec/ and mods/; require() loads only what is missing.
func TestJSLoad(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	tr.write(t, "exec/load/helper.js", "var loads = (typeof loads == 'number' ? loads : 0) + 1; function helper() { return 42; }\n")
	secret := tr.write(t, "data/secret.js", "var stolen = true;\n")
	s := tr.load(t, `[Load]
Eval = load("helper.js"); require("helper.js", "helper"); var abs = false, rel = false; try { load("`+secret+`"); } catch (e) { abs = true; } try { load("../data/secret.js"); } catch (e) { rel = true; } if (helper() != 42 || loads != 1 || !abs || !rel || typeof stolen != "undefined") exit(1);
`, nil)
	out := run(t, s, input(user1))
	if len(out.Failed) != 0 {
		t.Fatalf("failures %+v\n%s", out.Failed, tr.log.String())
	}
}

// A script edits the recipient list: the section it adds becomes a
// recipient.
func TestJSEditsRecipients(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	s := tr.load(t, `[Add]
Eval = var l = new File(recipient_list_filename); l.open("a"); l.writeln("[9]"); l.writeln("To=dm"); l.writeln("ToExt=2"); l.close(); file_remove(log_text_filename);
`, nil)
	out := run(t, s, input(user1))
	want := []envelope.Rcpt{user1, {Kind: envelope.KindMailbox, To: "dm", User: 2}}
	if !reflect.DeepEqual(out.Rcpts, want) {
		t.Fatalf("recipients %+v", out.Rcpts)
	}
}

// A consuming processor whose script is missing takes nothing: its
// recipients get a temporary failure, so the mail comes again once the
// sysop has installed the script.
func TestJSMissingScript(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	s := tr.load(t, "[ListServer]\nCommand=listserver.js\nTo=listserver\nPassThru=false\n", nil)
	list := envelope.Rcpt{Kind: envelope.KindProcessor, To: "listserver@bbs.example.org",
		ForwardPath: "<listserver@bbs.example.org>", Processors: []string{"ListServer"}}
	out := run(t, s, input(list))
	if out.Consumed || out.Reject == nil || out.Reject.Code != 451 || !errors.Is(out.Failed[0].Err, mailproc.ErrNotStarted) {
		t.Fatalf("outcome %+v", out)
	}
	if got := out.Reject.Lines(); !reflect.DeepEqual(got, []string{"451 4.3.0 Mail processor unavailable, try again later"}) {
		t.Fatalf("reply %q", got)
	}
	tr.noTempFiles(t)
}

// A regular expression that backtracks for ever on text a client sent
// (a lookahead and a backreference put goja on its backtracking engine,
// which the time limit's Interrupt cannot stop) still ends: each match
// has its own time limit, after which it counts as no match, and the
// processor's time limit stops the script.
func TestJSRegexpBacktrackingEnds(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	s := tr.load(t, `[Slow]
Eval = var s = "a".repeat(40) + "!"; while (true) { /^(a+)+(?!a)\1x$/.test(s); }
[Next]
Eval = log("next ran")
`, func(c *mailproc.Config) { c.Timeout = 200 * time.Millisecond })
	done := make(chan mailproc.Output, 1)
	go func() {
		out, _ := s.Run(context.Background(), input(user1))
		done <- out
	}()
	select {
	case out := <-done:
		if len(out.Failed) != 1 || !errors.Is(out.Failed[0].Err, mailproc.ErrTimeout) {
			t.Fatalf("failures %+v", out.Failed)
		}
		if !reflect.DeepEqual(out.Ran, []string{"Slow", "Next"}) {
			t.Fatalf("ran %v", out.Ran)
		}
	case <-time.After(time.Minute):
		t.Fatal("a backtracking regular expression ran on past the time limit")
	}
}

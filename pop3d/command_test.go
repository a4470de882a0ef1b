package pop3d

import (
	"bufio"
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestParseCommand(t *testing.T) {
	cases := []struct {
		line, verb, arg string
		bad             bool
	}{
		{line: "STAT", verb: "STAT"},
		{line: "list 2", verb: "LIST", arg: "2"},
		{line: "PASS  two  spaces ", verb: "PASS", arg: " two  spaces "},
		{line: "USER Joe Smith", verb: "USER", arg: "Joe Smith"},
		{line: "TOP 1 10", verb: "TOP", arg: "1 10"},
		{line: "", bad: true},
		{line: " STAT", bad: true},
		{line: "ST", bad: true},
		{line: "STATUS", bad: true},
		{line: "ST4T", bad: true},
		{line: "USER a\x00b", bad: true},
		{line: "\x16\x03\x01", bad: true}, // a TLS ClientHello on the plain port
	}
	for _, c := range cases {
		cmd, err := parseCommand(c.line)
		if c.bad {
			if err == nil {
				t.Errorf("parseCommand(%q) = %+v, want an error", c.line, cmd)
			}
			continue
		}
		if err != nil || cmd.Verb != c.verb || cmd.Arg != c.arg {
			t.Errorf("parseCommand(%q) = %+v, %v; want %q %q", c.line, cmd, err, c.verb, c.arg)
		}
	}
}

func TestParseNumber(t *testing.T) {
	for s, want := range map[string]int{"1": 1, "007": 7, "999999999": 999999999} {
		if n, ok := parseNumber(s); !ok || n != want {
			t.Errorf("parseNumber(%q) = %d, %v", s, n, ok)
		}
	}
	for _, s := range []string{"", "-1", "+1", "1.0", "1 ", "0x10", "1000000000"} {
		if n, ok := parseNumber(s); ok {
			t.Errorf("parseNumber(%q) = %d, want refusal", s, n)
		}
	}
}

func TestReadLine(t *testing.T) {
	long := strings.Repeat("x", 300)
	r := bufio.NewReaderSize(strings.NewReader("NOOP\r\n"+long+"\r\nSTAT\nQUIT"), 16)
	want := []struct {
		line string
		err  error
	}{{"NOOP", nil}, {"", errLineTooLong}, {"STAT", nil}}
	for _, w := range want {
		line, err := readLine(r)
		if line != w.line || !errors.Is(err, w.err) {
			t.Fatalf("readLine = %q, %v; want %q, %v", line, err, w.line, w.err)
		}
	}
	// A last line without its end is not a command.
	if line, err := readLine(r); err == nil {
		t.Fatalf("unterminated line accepted: %q", line)
	}
}

func TestAppendBody(t *testing.T) {
	cases := []struct{ in, want string }{
		{"a\r\n.b\r\n", "a\r\n..b\r\n.\r\n"},
		{".start\r\n", "..start\r\n.\r\n"},
		{"no end", "no end\r\n.\r\n"},
		{"", ".\r\n"},
		{"x\r\n.\r\n", "x\r\n..\r\n.\r\n"},
		{".", "..\r\n.\r\n"},
		{"\n", "\n.\r\n"},
		{"a\n.\n..\r\n...", "a\n..\n...\r\n....\r\n.\r\n"},
		{"end with dot\r\n.", "end with dot\r\n..\r\n.\r\n"},
	}
	for _, c := range cases {
		got := appendBody([]byte("+OK\r\n"), []byte(c.in))
		if string(got) != "+OK\r\n"+c.want {
			t.Errorf("dot-stuffing %q = %q, want %q", c.in, got, c.want)
		}
	}
}

// appendBody agrees with the line-by-line reading of RFC 1939 §3 on any
// input: un-stuffing its output gives the input back, with a CRLF added
// when the input did not end with a line break.
func FuzzAppendBody(f *testing.F) {
	for _, s := range []string{"a\r\n.b\r\n", ".", "..\n.\r\n.", "", "x\ny"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out := appendBody(nil, data)
		var want []byte
		lineStart := true
		for _, c := range data {
			if lineStart && c == '.' {
				want = append(want, '.')
			}
			want = append(want, c)
			lineStart = c == '\n'
		}
		if !lineStart {
			want = append(want, "\r\n"...)
		}
		want = append(want, ".\r\n"...)
		if !bytes.Equal(out, want) {
			t.Fatalf("appendBody(%q) = %q, want %q", data, out, want)
		}
	})
}

func TestTopOf(t *testing.T) {
	msg := "A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3\r\n"
	cases := []struct {
		data string
		k    int
		want string
	}{
		{msg, 0, "A: 1\r\nB: 2\r\n\r\n"},
		{msg, 2, "A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\n"},
		{msg, 99, msg},
		{"A: 1\r\nno body", 3, "A: 1\r\nno body"},
		{"\r\nbody\r\n", 0, "\r\n"},
		{"A: 1\n\nbare\nlf\n", 1, "A: 1\n\nbare\n"},
		{"A: 1\r\n\r\nlast line unterminated", 5, "A: 1\r\n\r\nlast line unterminated"},
	}
	for _, c := range cases {
		if got := string(topOf([]byte(c.data), c.k)); got != c.want {
			t.Errorf("topOf(%q, %d) = %q, want %q", c.data, c.k, got, c.want)
		}
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"STAT", "LIST 1", "TOP 1 10", "PASS a b ", "APOP joe c4c9334bac560ecc979e58001b3e22fb", "\x16\x03"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		cmd, err := parseCommand(line)
		if err != nil {
			return
		}
		if cmd.Verb != strings.ToUpper(cmd.Verb) || len(cmd.Verb) < 3 || len(cmd.Verb) > 4 {
			t.Fatalf("verb %q from %q", cmd.Verb, line)
		}
		if !strings.HasSuffix(line, cmd.Arg) || strings.ContainsAny(cmd.Arg, "\r\n\x00") {
			t.Fatalf("argument %q from %q", cmd.Arg, line)
		}
		if n, ok := parseNumber(cmd.Arg); ok && n < 0 {
			t.Fatalf("negative number from %q", cmd.Arg)
		}
		topOf([]byte(cmd.Arg), len(cmd.Arg)%5)
		got, err := readLine(bufio.NewReaderSize(strings.NewReader(line+"\r\n"), 16))
		if err == nil && (len(got) > maxLine || strings.ContainsAny(got, "\n")) {
			t.Fatalf("readLine gave %q", got)
		}
	})
}

// A session keeps its response buffers for the next RETR only up to
// maxKeptBuffer, emptied.
func TestKeepBuffer(t *testing.T) {
	if b := keepBuffer(make([]byte, 10, maxKeptBuffer)); b == nil || len(b) != 0 {
		t.Fatalf("a buffer of %d octets not kept empty: %d, %v", maxKeptBuffer, len(b), b == nil)
	}
	if b := keepBuffer(make([]byte, 10, maxKeptBuffer+1)); b != nil {
		t.Fatalf("a buffer of %d octets kept", cap(b))
	}
}

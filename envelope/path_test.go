package envelope

import "testing"

func TestParsePath(t *testing.T) {
	cases := []struct {
		arg, path, params string
		bad               bool
	}{
		{"<joe@example.org>", "joe@example.org", "", false},
		{"<>", "", "", false},
		{" <joe@example.org> SIZE=100 BODY=8BITMIME", "joe@example.org", "SIZE=100 BODY=8BITMIME", false},
		{"joe@example.org", "joe@example.org", "", false},
		{"joe@example.org SIZE=5", "joe@example.org", "SIZE=5", false},
		{"<@a.example,@b.example:joe@c.example>", "joe@c.example", "", false},
		{`<"odd>name"@example.org>`, `"odd>name"@example.org`, "", false},
		{"<joe@example.org", "", "", true},
		{"<a\x00b\x01c\rd@example.org>", "", "", true},
		{"<al\x01ice@example.org>", "", "", true},
		{"<al\tice@example.org>", "", "", true},
		{"<alice\x7f@example.org>", "", "", true},
		{"al\x1bice@example.org SIZE=1", "", "", true},
		{"", "", "", true},
	}
	for _, c := range cases {
		p, params, err := ParsePath(c.arg)
		if c.bad {
			if err == nil {
				t.Errorf("ParsePath(%q) = %q, want error", c.arg, p)
			}
			continue
		}
		if err != nil || p != c.path || params != c.params {
			t.Errorf("ParsePath(%q) = %q, %q, %v; want %q, %q", c.arg, p, params, err, c.path, c.params)
		}
	}
}

func TestSplitAddress(t *testing.T) {
	l, d := SplitAddress("a@b@host.example")
	if l != "a@b" || d != "host.example" {
		t.Fatalf("got %q %q", l, d)
	}
	if l, d := SplitAddress("sysop"); l != "sysop" || d != "" {
		t.Fatalf("got %q %q", l, d)
	}
}

func TestParseParams(t *testing.T) {
	m, err := ParseParams("size=100 BODY=8BITMIME SMTPUTF8")
	if err != nil || m["SIZE"] != "100" || m["BODY"] != "8BITMIME" {
		t.Fatalf("got %v %v", m, err)
	}
	if _, ok := m["SMTPUTF8"]; !ok {
		t.Fatal("keyword without value lost")
	}
	if _, err := ParseParams("=x"); err == nil {
		t.Fatal("want error for empty keyword")
	}
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"<joe@example.org> SIZE=1", "<>", `<"a>b"@c>`, "<@x,@y:z@w>", "joe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, _, err := ParsePath(s)
		if err == nil && (len(p) > len(s)) {
			t.Fatalf("path longer than input: %q from %q", p, s)
		}
		if l, d := SplitAddress(p); err == nil && len(l)+len(d) > len(p) {
			t.Fatalf("SplitAddress(%q) = %q, %q: longer than its input", p, l, d)
		}
	})
}

func TestUnquotedHelpers(t *testing.T) {
	for _, c := range []struct {
		s     string
		ats   int
		lastL int
	}{
		{"joe@example.org", 1, -1},
		{`"a@b"@example.org`, 1, -1},
		{`victim@evil.example@old.example`, 2, -1},
		{`"x\"@"@y@z`, 2, -1},
		{`"joe <x>" <a@b>`, 1, 10},
	} {
		if n := CountUnquoted(c.s, '@'); n != c.ats {
			t.Errorf("CountUnquoted(%q) = %d, want %d", c.s, n, c.ats)
		}
		if i := LastUnquoted(c.s, '<'); i != c.lastL {
			t.Errorf("LastUnquoted(%q) = %d, want %d", c.s, i, c.lastL)
		}
	}
	for in, want := range map[string]string{
		"@a,@b:joe@c":       "joe@c",
		"@[IPv6:::1]:joe@c": "joe@c",
		"joe@c:25":          "joe@c:25",
		"@a:joe@c:25":       "joe@c:25",
		"@no-colon":         "@no-colon",
	} {
		if got := DropSourceRoute(in); got != want {
			t.Errorf("DropSourceRoute(%q) = %q, want %q", in, got, want)
		}
	}
}

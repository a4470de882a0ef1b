package envelope

import (
	"reflect"
	"testing"
)

func TestReplyLines(t *testing.T) {
	cases := []struct {
		name string
		r    Reply
		want []string
	}{
		{"one line", Reply{Code: 250, Enhanced: "2.1.0", Text: "OK"}, []string{"250 2.1.0 OK"}},
		{"enhanced from the class", Reply{Code: 451, Text: "Try later"}, []string{"451 4.0.0 Try later"}},
		{"5xx class", Reply{Code: 554, Text: "No"}, []string{"554 5.0.0 No"}},
		{"multi-line", Reply{Code: 554, Enhanced: "5.7.1", Text: "first\nsecond\nlast"},
			[]string{"554-5.7.1 first", "554-5.7.1 second", "554 5.7.1 last"}},
		{"CR before LF dropped", Reply{Code: 550, Enhanced: "5.1.1", Text: "a\r\nb\r"}, []string{"550-5.1.1 a", "550 5.1.1 b"}},
		{"empty text", Reply{Code: 451, Enhanced: "4.0.0"}, []string{"451 4.0.0"}},
		{"empty line inside", Reply{Code: 550, Enhanced: "5.7.1", Text: "a\n\nb"}, []string{"550-5.7.1 a", "550-5.7.1", "550 5.7.1 b"}},
		{"3xx has no enhanced code", Reply{Code: 354, Text: "Go ahead"}, []string{"354 Go ahead"}},
		{"empty challenge keeps its space", Reply{Code: 334}, []string{"334 "}},
		{"greeting", Reply{Code: 220, Text: "bbs.example ready", NoEnhanced: true}, []string{"220 bbs.example ready"}},
		{"EHLO", Reply{Code: 250, Text: "bbs.example\nPIPELINING\nHELP", NoEnhanced: true},
			[]string{"250-bbs.example", "250-PIPELINING", "250 HELP"}},
	}
	for _, c := range cases {
		if got := c.r.Lines(); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %q; want %q", c.name, got, c.want)
		}
	}
}

func TestReplyError(t *testing.T) {
	r := &Reply{Code: 550, Enhanced: "5.7.1", Text: "Relay not allowed.", Err: ErrRelayDenied}
	if got := r.Error(); got != "550 Relay not allowed. (relay not allowed)" {
		t.Errorf("Error() = %q", got)
	}
	if r.Unwrap() != ErrRelayDenied {
		t.Error("Unwrap lost the reason")
	}
}

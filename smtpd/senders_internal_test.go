package smtpd

import (
	"reflect"
	"testing"
)

// The sender checks see every From and Sender field, unfolded.
func TestScanHeaderSenders(t *testing.T) {
	cases := []struct {
		name, in       string
		from, senderFs []string
	}{
		{"none", "Subject: s\r\n\r\n", nil, nil},
		{"one from", "From: A <a@b>\r\n\r\n", []string{"A <a@b>"}, nil},
		{"folded list", "From: a@b,\r\n \"C\" <c@d>\r\n\r\n", []string{"a@b, \"C\" <c@d>"}, nil},
		{"two froms and a sender", "From: a@b\r\nsender:  s@t \r\nFROM: c@d\r\n\r\n", []string{"a@b", "c@d"}, []string{"s@t"}},
		{"sender in the body only", "From: a@b\r\n\r\nSender: s@t\r\n", []string{"a@b"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, info := scanHeader([]byte(c.in))
			if !reflect.DeepEqual(info.fromFields, c.from) || !reflect.DeepEqual(info.senderFields, c.senderFs) {
				t.Fatalf("from %q sender %q, want %q %q", info.fromFields, info.senderFields, c.from, c.senderFs)
			}
		})
	}
}

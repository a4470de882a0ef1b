package smtpd

import "testing"

func TestTagMessage(t *testing.T) {
	t.Parallel()
	const hdr = "X-DNSBL: 192.0.2.1 is listed on bl.test as 127.0.0.2\r\n"
	tests := []struct {
		name, tag, in, want string
	}{
		{"subject prefixed", "SPAM",
			"From: a@b\r\nSubject: hello\r\n\r\nbody\r\n",
			hdr + "From: a@b\r\nSubject: SPAM: hello\r\n\r\nbody\r\n"},
		{"case-insensitive field name, folded value kept", "SPAM",
			"subject:   cheap\r\n pills\r\nTo: x@y\r\n\r\nb\r\n",
			hdr + "Subject: SPAM: cheap\r\n pills\r\nTo: x@y\r\n\r\nb\r\n"},
		{"only the first Subject", "SPAM",
			"Subject: one\r\nSubject: two\r\n\r\n",
			hdr + "Subject: SPAM: one\r\nSubject: two\r\n\r\n"},
		{"a Subject in the body is not the header's", "SPAM",
			"From: a@b\r\n\r\nSubject: not me\r\n",
			hdr + "Subject: SPAM:\r\nFrom: a@b\r\n\r\nSubject: not me\r\n"},
		{"a continuation line is not a field", "SPAM",
			"X-Long: a\r\n Subject: no\r\n\r\n",
			hdr + "Subject: SPAM:\r\nX-Long: a\r\n Subject: no\r\n\r\n"},
		{"no tag: header only", "",
			"Subject: hello\r\n\r\n",
			hdr + "Subject: hello\r\n\r\n"},
		{"no header section", "SPAM",
			"just text\r\n",
			hdr + "Subject: SPAM:\r\njust text\r\n"},
	}
	for _, tc := range tests {
		got := string(tagMessage([]byte(tc.in), "X-DNSBL", "192.0.2.1 is listed on bl.test as 127.0.0.2", tc.tag))
		if got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

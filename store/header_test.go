package store

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

func TestSummarize(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, msg            string
		from, subject, msgid string
		date                 time.Time
	}{
		{
			name: "plain",
			msg:  "From: a@b.example\r\nSubject: hi\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\nMessage-ID: <x@y>\r\n\r\nbody\r\n",
			from: "a@b.example", subject: "hi", msgid: "<x@y>",
			date: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC),
		},
		{
			name:    "folded and encoded subject, bare LF",
			msg:     "Subject: =?ISO-8859-1?Q?Gr=FC=DFe?=\n\taus Berlin\nfrom: x@y\n\nbody",
			from:    "x@y",
			subject: "Grüße aus Berlin",
		},
		{
			name:    "first of repeated fields wins, continuation of a dropped field ignored",
			msg:     "Subject: one\r\nSubject: two\r\n more\r\n\r\n",
			subject: "one",
		},
		{
			name:    "garbage line ends the header",
			msg:     "Subject: ok\r\nthis is not a header\r\nFrom: late@x\r\n\r\n",
			subject: "ok",
		},
		{
			name: "bad date is left empty",
			msg:  "Date: yesterday-ish\r\nFrom: \x1b[31mred\x1b[0m\r\n\r\n",
			from: " [31mred [0m",
		},
		{name: "no header at all", msg: "\r\njust a body"},
		{name: "empty", msg: ""},
	}
	for _, c := range cases {
		s := summarize([]byte(c.msg))
		if s.From != c.from || s.Subject != c.subject || s.MessageID != c.msgid || !s.Date.Equal(c.date) {
			t.Errorf("%s: got %+v", c.name, s)
		}
	}
}

func TestSummarizeClipsLongFields(t *testing.T) {
	t.Parallel()
	s := summarize([]byte("Subject: " + strings.Repeat("é", 1000) + "\r\n\r\n"))
	if len(s.Subject) > maxFieldLen || !utf8.ValidString(s.Subject) {
		t.Fatalf("subject of %d bytes, valid UTF-8 %v", len(s.Subject), utf8.ValidString(s.Subject))
	}
}

func FuzzSummarize(f *testing.F) {
	f.Add([]byte("From: a@b\r\nSubject: =?UTF-8?B?w6k=?=\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\n\r\nx"))
	f.Add([]byte("Subject:\r\n \r\n\t\r\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		s := summarize(msg)
		for _, v := range []string{s.From, s.Subject, s.MessageID} {
			if len(v) > maxFieldLen || !utf8.ValidString(v) || strings.ContainsAny(v, "\r\n\x00\x1b") {
				t.Fatalf("unsafe field %q", v)
			}
		}
	})
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "mail.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketMeta)).Put([]byte(metaSchema), u32(SchemaVersion+1))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{}); !errors.Is(err, ErrSchema) {
		t.Fatalf("newer schema: %v, want ErrSchema", err)
	}
}

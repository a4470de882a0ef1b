package sendmail_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/sendmail"
	"github.com/emersion/go-smtp"
)

// The delivery-failure notice a sender receives, byte for byte. A
// mismatch writes testdata/bounce.got for review.
func TestBounceGolden(t *testing.T) {
	t.Parallel()
	e, p, _ := mxEnv(t)
	p.failRcpt("nobody@example.test", 550, smtp.EnhancedCode{5, 1, 1}, "No such user")
	created := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	e.q.add(sendmail.Entry{ReversePath: "fred@far.example", Rcpt: "nobody@example.test",
		Subject: "Meeting notes", Created: created, Attempts: 1}, testMsg)
	e.runOnce(t)
	if e.drop.count() != 1 {
		t.Fatalf("%d bounces, want 1", e.drop.count())
	}
	got := e.drop.msgs[0]
	wantFile := filepath.Join("testdata", "bounce.want")
	want, err := os.ReadFile(wantFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		gotFile := filepath.Join("testdata", "bounce.got")
		_ = os.WriteFile(gotFile, got, 0o644)
		t.Errorf("bounce differs from %s; wrote %s:\n%s", wantFile, gotFile, got)
	}
}

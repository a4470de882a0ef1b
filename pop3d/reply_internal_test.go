package pop3d

import (
	"bufio"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"testing"
)

// An error that is not a reply reaches the client only as a reference,
// in the format the SMTP server uses too (netutil.Ref): the session id and
// random hex digits, so two errors in one second do not share it. The
// cause and the reference are in the log.
func TestReplyInternalErrorRef(t *testing.T) {
	var out, logged strings.Builder
	s := &session{
		cfg: Config{}.withDefaults(), id: "k",
		log: slog.New(slog.NewTextHandler(&logged, nil)),
		w:   bufio.NewWriter(&out),
	}
	if s.reply(errors.New("disk on fire")) {
		t.Error("an internal error ended the session by itself")
	}
	_ = s.w.Flush()
	m := regexp.MustCompile(`^-ERR \[SYS/TEMP\] Internal error, try again later \(ref (k-[0-9a-f]{8})\)\r\n$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("reply %q", out.String())
	}
	if l := logged.String(); !strings.Contains(l, m[1]) || !strings.Contains(l, "disk on fire") {
		t.Errorf("log %q lacks the reference or the cause", l)
	}
	if strings.Contains(out.String(), "disk on fire") {
		t.Error("the cause reached the client")
	}
}

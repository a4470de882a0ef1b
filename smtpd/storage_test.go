package smtpd_test

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/bbsmail/bbsmail/smtpd"
)

// A full disk when the message is stored is answered 452 4.3.1
// (insufficient system storage), not 451 4.3.0: the sender keeps the
// message and tries again.
func TestDiskFullIsInsufficientStorage(t *testing.T) {
	t.Parallel()
	ts := startServer(t, smtpd.MTA, nil)
	ts.drop.mu.Lock()
	ts.drop.fail = fmt.Errorf("store: commit: %w", &os.PathError{Op: "write", Path: "data/bbsmail.db", Err: syscall.ENOSPC})
	ts.drop.mu.Unlock()
	got := sendThroughProcessors(t, ts)
	if len(got) != 1 || !strings.HasPrefix(got[0], "452 4.3.1 ") {
		t.Fatalf("reply %q, want 452 4.3.1", got)
	}
}

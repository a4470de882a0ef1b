package netutil_test

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/bbsmail/bbsmail/netutil"
)

// Synchronet's rule: the failure's own level, raised in number (made less
// severe) to at least TLSErrorLevel, and capped at Info.
func TestTLSFailureLevel(t *testing.T) {
	t.Parallel()
	bad := fmt.Errorf("handshake: %w", errors.New("tls: client offered only unsupported versions: [301]"))
	alert := fmt.Errorf("handshake: %w", tls.AlertError(42))
	cases := []struct {
		err   error
		floor slog.Level
		want  slog.Level
	}{
		{bad, slog.LevelWarn, slog.LevelWarn},
		{alert, slog.LevelWarn, slog.LevelWarn},
		{bad, slog.LevelError + 4, slog.LevelWarn}, // Emergency: the failure's own level
		{bad, slog.LevelInfo + 2, slog.LevelInfo + 2},
		{bad, slog.LevelDebug, slog.LevelInfo}, // never below Info
		{io.EOF, slog.LevelWarn, slog.LevelInfo},
		{errors.New("something else"), slog.LevelWarn, slog.LevelWarn},
		{errors.New("something else"), slog.LevelError + 4, slog.LevelError},
	}
	for _, tc := range cases {
		if got := netutil.TLSFailureLevel(tc.err, tc.floor); got != tc.want {
			t.Errorf("TLSFailureLevel(%v, %v) = %v, want %v", tc.err, tc.floor, got, tc.want)
		}
	}
}

package netutil

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"syscall"
)

// TLSFailureLevel is the log level of a failed TLS handshake, chosen as
// Synchronet chooses it: the failure's own level (a client that hung up
// is Debug, a timeout Info, bad data from the client Warning, anything
// else Error) made no more severe than floor (TLSErrorLevel), and never
// less visible than Info.
func TLSFailureLevel(err error, floor slog.Level) slog.Level {
	return max(min(tlsFailureBase(err), floor), slog.LevelInfo)
}

func tlsFailureBase(err error) slog.Level {
	var (
		alert  tls.AlertError
		record tls.RecordHeaderError
		ne     net.Error
	)
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return slog.LevelDebug
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.As(err, &ne) && ne.Timeout():
		return slog.LevelInfo
	case errors.As(err, &alert), errors.As(err, &record), isTLSProtocolError(err):
		return slog.LevelWarn
	}
	return slog.LevelError
}

// isTLSProtocolError reports the crypto/tls errors that carry no type of
// their own ("tls: client offered only unsupported versions" and the
// like): what the client sent was wrong.
func isTLSProtocolError(err error) bool {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if s := e.Error(); len(s) > 5 && s[:5] == "tls: " {
			return true
		}
	}
	return false
}

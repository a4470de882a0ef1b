package sendmail

import (
	"context"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
)

// Entry is one queued recipient copy of a message, as the mailbase keeps it.
// The field names match store.QueueEntry so the wiring can convert one into
// the other field by field.
type Entry struct {
	ID          uint64
	ReversePath string // "" for the null sender
	Rcpt        string // user@domain, or user@host:port for a forced destination
	Created     time.Time
	NextAttempt time.Time
	Attempts    int // failed attempts so far
	LastError   string
	InTransit   bool
	LocalSender uint32 // the sending BBS user's number; 0 when not a local user
	Subject     string
	Size        int64
}

// Queue is the outbound queue in the mailbase. Every entry returned by
// QueueClaim is flagged in transit; the Sender clears that flag through
// exactly one of QueueDelivered, QueueDefer or QueueFail.
type Queue interface {
	// QueueClaim returns up to max entries due at now and flags them in
	// transit, atomically. With includeInTransit it also returns entries
	// already flagged (left behind by a crash).
	QueueClaim(now time.Time, max int, includeInTransit bool) ([]Entry, error)
	// QueueMessage returns the stored message (trace and text, CRLF lines).
	QueueMessage(id uint64) ([]byte, error)
	// QueueDelivered removes delivered entries, all of them in one
	// commit. An id that is gone does not keep the others from being
	// removed.
	QueueDelivered(ids ...uint64) error
	// QueueDefer counts a failed attempt, sets the next attempt time and
	// clears the in-transit flag.
	QueueDefer(id uint64, next time.Time, lastErr string) error
	// QueueFail removes an entry that will not be delivered (after the
	// Sender has bounced it, or decided not to).
	QueueFail(id uint64, lastErr string) error
	// NextQueueTime is the earliest NextAttempt of an entry that is not in
	// transit; ok is false when the queue holds none.
	NextQueueTime() (next time.Time, ok bool, err error)
}

// Maildrop accepts a message into the mailbase the way the SMTP server
// does. The Sender uses it for delivery-failure notices.
type Maildrop interface {
	Deliver(ctx context.Context, env *envelope.Envelope, msg []byte) error
}

// Deps are the Sender's collaborators.
type Deps struct {
	Queue    Queue
	Maildrop Maildrop
}

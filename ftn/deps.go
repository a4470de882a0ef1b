package ftn

import "context"

// Spool is the netmail waiting in the mailbase. A netmail is "packed"
// once a complete packet holding it sits in a temporary file the spool
// knows about; the rename into the outbound and Exported follow. Recovery
// reads the packed marks back to finish or undo an export a crash cut
// short.
type Spool interface {
	// Pending lists the FidoNet netmail that is not packed, oldest first.
	Pending() ([]Outgoing, error)
	Marks
}

// Marks are the mailbase's records of netmail packed into a temporary
// packet (see Commit).
type Marks interface {
	// Pack marks ids as packed into the temporary packet tmp, which is to
	// become final.
	Pack(ids []uint64, tmp, final string) error
	// Unpack clears the marks: the packet never reached the outbound.
	Unpack(ids []uint64) error
	// Exported removes ids (and their marks): they are in the packet
	// final in the outbound. fresh says final was started anew, so an
	// earlier packet of that name was sent (the mailer removed it).
	Exported(ids []uint64, final string, fresh bool) error
	// Packed returns the marks: netmail id → its packets.
	Packed() (map[uint64]Mark, error)
}

// Mark is the packed mark of one netmail: the temporary packet and the
// packet it becomes ("" when the mark did not record it).
type Mark struct {
	Tmp, Final string
}

// Mailboxes takes imported netmail.
type Mailboxes interface {
	// Deliver stores in.Message for the user called in.To (the sysop when
	// nobody has that name) unless a message with in.Key was imported
	// before, which it reports as dup. It returns once the message is on
	// disk.
	Deliver(ctx context.Context, in Incoming) (user string, dup bool, err error)
}

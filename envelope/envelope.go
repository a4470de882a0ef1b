package envelope

import "time"

// NetType is Synchronet's SMB network type, as written in .lst files
// (ToNetType) and shown by the command line.
type NetType int

const (
	NetNone     NetType = 0
	NetFido     NetType = 2
	NetQWK      NetType = 4
	NetInternet NetType = 5
)

func (t NetType) String() string {
	switch t {
	case NetNone:
		return "local"
	case NetFido:
		return "fidonet"
	case NetQWK:
		return "qwknet"
	case NetInternet:
		return "internet"
	}
	return "unknown"
}

// Kind says where one recipient's copy of a message goes.
type Kind int

const (
	// KindMailbox is a local user's mailbox (Rcpt.User).
	KindMailbox Kind = iota
	// KindSub is a post on the message sub-board Rcpt.Sub, to Rcpt.To.
	KindSub
	// KindFido is FidoNet netmail to Rcpt.To at Rcpt.NetAddr (zone:net/node[.point]).
	KindFido
	// KindQWK is QWK netmail to Rcpt.To through the route in Rcpt.NetAddr
	// (hub[/node...]).
	KindQWK
	// KindRemote is Internet mail for the SMTP queue, to Rcpt.NetAddr
	// (user@host or user@host:port).
	KindRemote
	// KindDrop is accepted and discarded (spam bait): it counts as a recipient
	// but nothing is written.
	KindDrop
	// KindProcessor is accepted for a mail processor (mailproc.ini) that
	// consumes the message: a To name that is no user, captured at RCPT
	// time by a processor with PassThru=false. It is stored nowhere unless
	// a processor puts it back in the recipient list as something else.
	KindProcessor
)

func (k Kind) String() string {
	switch k {
	case KindMailbox:
		return "mailbox"
	case KindSub:
		return "sub"
	case KindFido:
		return "fidonet"
	case KindQWK:
		return "qwknet"
	case KindRemote:
		return "remote"
	case KindDrop:
		return "drop"
	case KindProcessor:
		return "processor"
	}
	return "unknown"
}

// Rcpt is one resolved recipient.
type Rcpt struct {
	Kind Kind
	// To is the recipient's name: the user's alias, the sub-board addressee,
	// or the remote user's name.
	To string
	// User is the local user number (Synchronet's ToExt); 0 when none.
	User uint32
	// NetType and NetAddr describe a network destination (FidoNet address,
	// QWK route, Internet address).
	NetType NetType
	NetAddr string
	// Sub is the internal code of the sub-board for KindSub.
	Sub string
	// ForwardPath is the raw RCPT TO argument; it appears in the Received
	// header's "for" clause. Empty for copies forwarded to netmail.
	ForwardPath string
	// Forwarded is set when a local user's mail is forwarded to the user's
	// Internet netmail address (NetAddr) instead of the mailbox.
	Forwarded bool
	// Trace is the per-copy header block (Return-Path and Received) that
	// is stored in front of the shared message text. Filled in by smtpd.
	Trace []byte
	// Processors names the mail processors (mailproc.ini sections) whose
	// To patterns this recipient matched at RCPT time; a processor with To
	// patterns runs at the end of DATA only if some recipient names it.
	Processors []string
}

// Identity is an authenticated BBS user.
type Identity struct {
	User  uint32 // user number, never 0 for a real user
	Alias string
	// MayRelay is false when the user carries restriction M or G
	// (Synchronet's rule for relaying and foreign sender addresses).
	MayRelay bool
}

// Envelope is what the SMTP server knows about one accepted message.
type Envelope struct {
	ID          string // session/message id used in log lines
	ReversePath string // without angle brackets; "" for the null sender <>
	Helo        string
	ClientIP    string
	ClientHost  string // "<no name>" when unknown
	ServerHost  string
	Port        int    // the port the client connected to
	Proto       string // SMTP, ESMTP, ESMTPA, ESMTPS, ESMTPSA
	TLS         bool
	Auth        *Identity // nil when unauthenticated
	Rcpts       []Rcpt
	Spam        bool // flagged as spam (DNSBL tag, X-Spam-Flag)
	// KillRead stores mailbox copies with the kill-read flag: they are
	// deleted once read (main.ini "Kill Read E-mail").
	KillRead bool
	Telegram bool // SEND/SOML/SAML transaction
	Received time.Time
}

// RcptQuery is one RCPT TO (or SEND/SOML/SAML recipient) to resolve.
type RcptQuery struct {
	Arg  string // the raw argument after "TO:", parameters included
	Auth *Identity
	// MayRelay is the relay rule's answer for this session: the client is in
	// relay.cfg, or authenticated with relaying allowed, or on a submission
	// port. Non-local addresses are refused when it is false.
	MayRelay bool
	// Submission is set on ports 587 and 465.
	Submission bool
	Telegram   bool
	SendOnly   bool // SEND (the user must be online)
	Port       int  // the port the client connected to
	// Listed is set when the client is DNS-blacklisted (and not exempt);
	// mail processors with ProcessDNSBL=false then do not match.
	Listed bool
	// ClientIP, ClientHost and TLS describe the client for the mail
	// processors' AccessRequirements (IP, HOST and PROT terms).
	ClientIP   string
	ClientHost string
	TLS        bool
}

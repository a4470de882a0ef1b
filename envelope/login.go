package envelope

// LoginAttempt is one failed login, as a protocol server reports it to the
// failed-login tracker shared by all the servers of a process. It lives here
// so that smtpd and pop3d can declare the tracker's interface without
// importing the package that implements it.
type LoginAttempt struct {
	Protocol string // "SMTP", "POP3" ...
	IP       string // the client's address
	Port     int    // the client's TCP port
	Host     string // the client's host name; "" when unknown
	User     string // the login name tried; "" when none was given
	// Method is how the client tried to log in: "PLAIN", "LOGIN",
	// "CRAM-MD5", "USER/PASS", "APOP".
	Method string
	// Password is what the client sent as its password: the password
	// itself, or for challenge-response methods (Digest set) the digest.
	// It is only compared with the previous attempt from the same address
	// (through a keyed hash) to recognise repeats; it is never stored,
	// logged or written anywhere.
	Password string
	Digest   bool
	// Local is set when the client connected from the server's own
	// address: such a client is counted and logged but never banned,
	// throttled or filtered.
	Local bool
}

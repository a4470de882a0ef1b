package envelope

import "context"

// Client describes the connection a login or a message arrives on, for
// access requirement strings that test the client's address, host name or
// protocol (IP, HOST and PROT in Synchronet's ARS).
type Client struct {
	IP   string
	Host string // forward-confirmed host name; "" when unknown
	// Protocol is Synchronet's name for the session: SMTP, SMTPS (port 465
	// or after STARTTLS), POP3 or POP3S (port 995 or after STLS).
	Protocol string
}

type clientKey struct{}

// WithClient returns a context that carries c to the callee (the login
// check, for instance) without widening every interface on the way.
func WithClient(ctx context.Context, c Client) context.Context {
	return context.WithValue(ctx, clientKey{}, c)
}

// ClientFrom returns the Client that WithClient stored in ctx.
func ClientFrom(ctx context.Context) (Client, bool) {
	c, ok := ctx.Value(clientKey{}).(Client)
	return c, ok
}

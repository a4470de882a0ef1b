package netutil

import (
	"errors"
	"net"
	"time"
)

// AcceptLoop accepts connections from l and hands each to handle, which
// must not block, until l is closed; it then returns the accept error
// (wrapping net.ErrClosed). Any other accept error is retried with a short
// backoff: running out of file descriptors (EMFILE, ENFILE) passes, and
// giving up would leave the port dead while the process runs on.
func AcceptLoop(l net.Listener, handle func(net.Conn)) error {
	var backoff time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		handle(c)
	}
}

package mailproc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dop251/goja"
)

// Defaults of Synchronet's Socket methods.
const (
	sockConnectTimeout = 10 * time.Second
	sockRecvTimeout    = 30 * time.Second
	sockRecvMax        = 512
)

// errSocketDenied is why a script may not connect somewhere.
var errSocketDenied = errors.New("destination not allowed for mail processor scripts")

// jsSocket is one Socket object: Synchronet's class reduced to an
// outgoing TCP stream (connect, send/write, recv, recvline, close), which
// is what mail processors such as spamc.js use.
//
// Where a script may connect is the sysop's choice, never a client's: a
// loopback address, or a host (name or address) written in the
// processor's own Command line in mailproc.ini. Scripts build strings from
// what clients send, and a script that connected wherever a message told
// it to would be an open proxy.
type jsSocket struct {
	h        *jsHost
	conn     net.Conn
	rd       *bufio.Reader
	errno    int
	writable bool
}

// socketConstructor is `new Socket([type[, protocol]])`; only stream
// sockets exist.
func (h *jsHost) socketConstructor(call goja.ConstructorCall) *goja.Object {
	if t := call.Argument(0); !goja.IsUndefined(t) && t.ToInteger() != 1 {
		panic(h.vm.NewTypeError("Socket: only SOCK_STREAM sockets are supported"))
	}
	s := &jsSocket{h: h}
	o := call.This
	for k, fn := range map[string]func(goja.FunctionCall) goja.Value{
		"connect": s.connect, "send": s.send, "write": s.send, "sendline": s.sendline,
		"recv": s.recv, "read": s.recv, "recvline": s.recvline, "readline": s.recvline,
		"close": s.closeJS, "poll": s.poll,
	} {
		_ = o.Set(k, fn)
	}
	for k, get := range map[string]func() any{
		"is_connected": s.isConnected,
		"error":        func() any { return s.errno },
		"last_error":   func() any { return s.errno },
		"data_waiting": func() any { return s.rd != nil && s.rd.Buffered() > 0 },
	} {
		getter := h.vm.ToValue(func(goja.FunctionCall) goja.Value { return h.vm.ToValue(get()) })
		_ = o.DefineAccessorProperty(k, getter, nil, goja.FLAG_FALSE, goja.FLAG_TRUE)
	}
	getW := h.vm.ToValue(func(goja.FunctionCall) goja.Value { return h.vm.ToValue(s.conn != nil && s.writable) })
	setW := h.vm.ToValue(func(c goja.FunctionCall) goja.Value {
		if !c.Argument(0).ToBoolean() {
			s.shutdownWrite()
		}
		return goja.Undefined()
	})
	_ = o.DefineAccessorProperty("is_writeable", getW, setW, goja.FLAG_FALSE, goja.FLAG_TRUE)
	h.sockets = append(h.sockets, s)
	return nil
}

// connect(host, port[, timeout]) answers true or false.
func (s *jsSocket) connect(call goja.FunctionCall) goja.Value {
	vm := s.h.vm
	if s.conn != nil {
		return vm.ToValue(false)
	}
	host, port := call.Argument(0).String(), call.Argument(1).String()
	timeout := sockConnectTimeout
	if a := call.Argument(2); !goja.IsUndefined(a) && a.ToFloat() > 0 {
		timeout = time.Duration(a.ToFloat() * float64(time.Second))
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		s.errno = int(syscall.EINVAL)
		return vm.ToValue(false)
	}
	addr, err := s.h.socketAddr(host)
	if err != nil {
		s.h.log.Warn("!Mail processor script may not connect", "host", host, "port", port, "err", err)
		s.errno = int(syscall.EACCES)
		return vm.ToValue(false)
	}
	ctx, cancel := context.WithTimeout(s.h.ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(addr.String(), port))
	if err != nil {
		s.setErr(err)
		s.h.log.Debug("Mail processor script could not connect", "host", host, "port", port, "err", err)
		return vm.ToValue(false)
	}
	s.conn, s.rd, s.writable, s.errno = conn, bufio.NewReader(conn), true, 0
	return vm.ToValue(true)
}

// socketAddr applies the destination policy (see jsSocket) and resolves
// host to the address to connect to.
func (h *jsHost) socketAddr(host string) (netip.Addr, error) {
	named := false
	for _, w := range h.sysopHosts {
		named = named || strings.EqualFold(w, host)
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else if named || strings.EqualFold(host, "localhost") {
		ctx, cancel := context.WithTimeout(h.ctx, resolveTimeout)
		defer cancel()
		list, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("resolving %s: %w", host, err)
		}
		addrs = list
	}
	if len(addrs) == 0 {
		return netip.Addr{}, fmt.Errorf("%w: %s is neither a loopback address nor named in the processor's command line", errSocketDenied, host)
	}
	for _, a := range addrs {
		if named || a.Unmap().IsLoopback() {
			return a.Unmap(), nil
		}
	}
	return netip.Addr{}, fmt.Errorf("%w: %s is neither a loopback address nor named in the processor's command line", errSocketDenied, host)
}

func (s *jsSocket) setErr(err error) {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		s.errno = int(errno)
	} else {
		s.errno = -1
	}
}

// deadline is now+d, but never after the script's own end.
func (s *jsSocket) deadline(d time.Duration) time.Time {
	t := time.Now().Add(d)
	if end, ok := s.h.ctx.Deadline(); ok && end.Before(t) {
		return end
	}
	return t
}

// send(data) writes the string's bytes (Latin-1) and answers true or
// false.
func (s *jsSocket) send(call goja.FunctionCall) goja.Value {
	return s.h.vm.ToValue(s.put(fromJS(call.Argument(0).String())))
}

func (s *jsSocket) sendline(call goja.FunctionCall) goja.Value {
	return s.h.vm.ToValue(s.put(append(fromJS(call.Argument(0).String()), '\r', '\n')))
}

func (s *jsSocket) put(data []byte) bool {
	if s.conn == nil || !s.writable {
		return false
	}
	_ = s.conn.SetWriteDeadline(s.deadline(sockRecvTimeout))
	if _, err := s.conn.Write(data); err != nil {
		s.setErr(err)
		return false
	}
	return true
}

// shutdownWrite is is_writeable = false: the peer sees the end of what
// the script sends.
func (s *jsSocket) shutdownWrite() {
	if s.conn == nil || !s.writable {
		return
	}
	s.writable = false
	if tc, ok := s.conn.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}

// recv([maxlen[, timeout]]) answers what arrives, up to maxlen bytes
// (512); "" at the end of the stream, null on a timeout or error.
func (s *jsSocket) recv(call goja.FunctionCall) goja.Value {
	if s.conn == nil {
		return goja.Null()
	}
	n, timeout := s.recvArgs(call)
	_ = s.conn.SetReadDeadline(s.deadline(timeout))
	buf := make([]byte, n)
	got, err := s.rd.Read(buf)
	if got > 0 {
		return s.h.vm.ToValue(latin1(buf[:got]))
	}
	if errors.Is(err, io.EOF) {
		return s.h.vm.ToValue("")
	}
	s.setErr(err)
	return goja.Null()
}

// recvline([maxlen[, timeout]]) answers the next line without its line
// end; what arrived so far at the end of the stream; null when nothing
// came.
func (s *jsSocket) recvline(call goja.FunctionCall) goja.Value {
	if s.conn == nil {
		return goja.Null()
	}
	n, timeout := s.recvArgs(call)
	_ = s.conn.SetReadDeadline(s.deadline(timeout))
	var line []byte
	for len(line) < n {
		c, err := s.rd.ReadByte()
		if err != nil {
			if len(line) == 0 {
				s.setErr(err)
				return goja.Null()
			}
			break
		}
		if c == '\n' {
			break
		}
		line = append(line, c)
	}
	return s.h.vm.ToValue(latin1([]byte(strings.TrimSuffix(string(line), "\r"))))
}

func (s *jsSocket) recvArgs(call goja.FunctionCall) (int, time.Duration) {
	n, timeout := sockRecvMax, sockRecvTimeout
	if a := call.Argument(0); !goja.IsUndefined(a) && a.ToInteger() > 0 {
		n = int(min(a.ToInteger(), 1<<20))
	}
	if a := call.Argument(1); !goja.IsUndefined(a) && a.ToFloat() > 0 {
		timeout = time.Duration(a.ToFloat() * float64(time.Second))
	}
	return n, timeout
}

// isConnected is false once the socket is closed or the peer has closed
// and everything it sent has been read.
func (s *jsSocket) isConnected() any {
	if s.conn == nil {
		return false
	}
	if s.rd.Buffered() > 0 {
		return true
	}
	_ = s.conn.SetReadDeadline(time.Now().Add(time.Millisecond))
	_, err := s.rd.Peek(1)
	var ne net.Error
	return err == nil || (errors.As(err, &ne) && ne.Timeout())
}

// poll([timeout]) answers whether data is waiting.
func (s *jsSocket) poll(call goja.FunctionCall) goja.Value {
	if s.conn == nil {
		return s.h.vm.ToValue(false)
	}
	timeout := time.Duration(0)
	if a := call.Argument(0); !goja.IsUndefined(a) {
		timeout = time.Duration(a.ToFloat() * float64(time.Second))
	}
	_ = s.conn.SetReadDeadline(s.deadline(max(timeout, time.Millisecond)))
	_, err := s.rd.Peek(1)
	return s.h.vm.ToValue(err == nil)
}

func (s *jsSocket) close() {
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn, s.rd = nil, nil
	}
}

func (s *jsSocket) closeJS(goja.FunctionCall) goja.Value {
	s.close()
	return goja.Undefined()
}

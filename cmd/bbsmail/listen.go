package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// bindSpec says how to retry a busy port (sbbs.ini BindRetryCount and
// BindRetryDelay).
type bindSpec struct {
	Retries int
	Delay   time.Duration
	Log     *slog.Logger
}

// listenAll opens one TCP listener per interface for port. An interface
// entry may carry its own port ("10.0.0.1:2525", "[::1]:2525"). IPv6
// wildcard listeners are v6-only so that 0.0.0.0 and :: can both be bound.
// An interface that does not exist on this host (an IPv6 address on a
// v4-only machine) is logged and skipped, as long as one listener opens.
func listenAll(interfaces []string, port int, spec bindSpec) ([]net.Listener, error) {
	if len(interfaces) == 0 {
		interfaces = []string{"0.0.0.0", "::"}
	}
	var out []net.Listener
	var errs []error
	for _, iface := range interfaces {
		addr, network := listenAddr(strings.TrimSpace(iface), port)
		l, err := listenRetry(network, addr, spec)
		if err != nil {
			if isUnavailable(err) {
				spec.Log.Warn(fmt.Sprintf("interface %s not available: %v", addr, err))
				continue
			}
			errs = append(errs, err)
			continue
		}
		out = append(out, l)
	}
	if len(errs) > 0 || len(out) == 0 {
		for _, l := range out {
			l.Close()
		}
		if len(errs) == 0 {
			errs = append(errs, fmt.Errorf("no interface could be bound for port %d", port))
		}
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func listenAddr(iface string, port int) (addr, network string) {
	host, p := iface, strconv.Itoa(port)
	if h, hp, err := net.SplitHostPort(iface); err == nil {
		host, p = h, hp
	}
	if host == "" {
		host = "0.0.0.0"
	}
	network = "tcp4"
	if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		network = "tcp6"
	}
	return net.JoinHostPort(host, p), network
}

func listenRetry(network, addr string, spec bindSpec) (net.Listener, error) {
	for attempt := 0; ; attempt++ {
		l, err := net.Listen(network, addr)
		if err == nil {
			return l, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) || attempt >= spec.Retries {
			return nil, fmt.Errorf("binding %s: %w", addr, err)
		}
		spec.Log.Warn(fmt.Sprintf("!ERROR %v binding socket to %s, retrying in %v (%d of %d)", err, addr, spec.Delay, attempt+1, spec.Retries))
		time.Sleep(spec.Delay)
	}
}

func isUnavailable(err error) bool {
	return errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.EAFNOSUPPORT)
}

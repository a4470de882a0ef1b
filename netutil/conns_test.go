package netutil

import "testing"

// One Conns counts for every server that shares it: the limits span them,
// logged-in connections leave the per-IP count, exempt addresses skip it,
// and releasing twice counts once.
func TestConnsLimits(t *testing.T) {
	var c Conns
	l := Limits{MaxClients: 3, MaxPerIP: 2}
	a1, v1 := c.Admit("192.0.2.1", l)
	a2, v2 := c.Admit("192.0.2.1", l)
	if v1 != Admitted || v2 != Admitted {
		t.Fatalf("first two from one address: %v %v", v1, v2)
	}
	if _, v := c.Admit("192.0.2.1", l); v != TooManyFromIP {
		t.Fatalf("third from one address: %v, want TooManyFromIP", v)
	}
	if _, v := c.Admit("192.0.2.1", Limits{MaxClients: 3, MaxPerIP: 2, ExemptIP: true}); v != Admitted {
		t.Fatalf("third from an exempt address: %v, want Admitted", v)
	}
	if _, v := c.Admit("192.0.2.9", l); v != TooManyClients {
		t.Fatalf("fourth connection: %v, want TooManyClients", v)
	}
	a1.LoggedIn()
	a1.LoggedIn()
	if n := c.pending["192.0.2.1"]; n != 2 {
		t.Fatalf("after a login, %d counted per IP, want 2", n)
	}
	a2.Release()
	a2.Release()
	if c.Active() != 2 {
		t.Fatalf("after a release, %d active, want 2", c.Active())
	}
	s, v := c.Admit("192.0.2.1", l)
	if v != Admitted {
		t.Fatalf("after a login and a release: %v, want Admitted", v)
	}
	s.Release()
	a1.Release()
	if c.Active() != 1 || c.pending["192.0.2.1"] != 1 {
		t.Fatalf("counts after releases: active %d, per IP %v", c.Active(), c.pending)
	}
}

package ctrl_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/bbsmail/bbsmail/ctrl"
)

// RateLimitSubnetPrefix4/6 default to Synchronet's 0 (per address) and 64
// (per /64), take [Mail] values, and refuse a prefix longer than the
// address with the file, line and key.
func TestRateLimitSubnetPrefixes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		ini    string
		p4, p6 int
		badKey string
	}{
		{"defaults", "[Mail]\n", 0, 64, ""},
		{"set", "[Mail]\n\tRateLimitSubnetPrefix4 = 24\n\tRateLimitSubnetPrefix6 = 0\n", 24, 0, ""},
		{"not from [Global]", "[Global]\n\tRateLimitSubnetPrefix4 = 16\n[Mail]\n", 0, 64, ""},
		{"IPv4 too long", "[Mail]\n\tRateLimitSubnetPrefix4 = 33\n", 0, 0, "RateLimitSubnetPrefix4"},
		{"IPv6 too long", "[Mail]\n\tRateLimitSubnetPrefix6 = 129\n", 0, 0, "RateLimitSubnetPrefix6"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "ctrl")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "sbbs.ini"), []byte(tc.ini), 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := ctrl.Load(dir)
			if tc.badKey != "" {
				var ce *ctrl.Error
				if !errors.As(err, &ce) || ce.Key != tc.badKey || ce.Line == 0 {
					t.Fatalf("Load: %v; want an error on %s", err, tc.badKey)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Mail.RateLimitSubnetPrefix4 != tc.p4 || c.Mail.RateLimitSubnetPrefix6 != tc.p6 {
				t.Errorf("prefixes %d, %d; want %d, %d", c.Mail.RateLimitSubnetPrefix4, c.Mail.RateLimitSubnetPrefix6, tc.p4, tc.p6)
			}
		})
	}
}

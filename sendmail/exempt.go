package sendmail

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"
)

// autoExempt adds a delivered-to address to dnsbl_exempt.cfg, so replies
// from people our users write to are not lost to a DNS blacklist. The
// entry is Synchronet's: a comment line naming the sender and the date,
// then the address in angle brackets. Nothing is written when the address
// is already exempt, NO_AUTO_EXEMPT is set, or no file is configured.
func (s *Sender) autoExempt(sender, addr string) {
	if s.cfg.NoAutoExempt || s.cfg.ExemptFile == "" || addr == "" {
		return
	}
	s.exemptMu.Lock()
	defer s.exemptMu.Unlock()
	if s.cfg.IsExempt != nil && (s.cfg.IsExempt(addr) || s.cfg.IsExempt("<"+addr+">")) {
		return
	}
	if err := appendExempt(s.cfg.ExemptFile, sender, addr, s.cfg.Now()); err != nil {
		s.log.Error("SendMail auto-exempting recipient", "addr", addr, "err", err)
	}
}

// appendExempt appends the entry for addr unless the file already lists
// it exactly (with or without angle brackets, in any case).
func appendExempt(path, sender, addr string, now time.Time) error {
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if exemptListed(data, addr) {
		return nil
	}
	var b strings.Builder
	if len(data) > 0 && !bytes.HasSuffix(data, []byte("\n")) {
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, ";SEND Auto-exempting from %s on %s\n<%s>\n", sender, now.Format(time.ANSIC), addr)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("opening %s: %w", path, err)
	}
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// exemptListed reports whether a list file holds addr as an entry of its
// own. Comment lines and TAB-separated metadata are ignored.
func exemptListed(data []byte, addr string) bool {
	for line := range strings.Lines(string(data)) {
		line, _, _ = strings.Cut(line, "\t")
		line = strings.TrimSpace(line)
		if line == "" || line[0] == ';' {
			continue
		}
		if strings.EqualFold(strings.Trim(line, "<>"), addr) {
			return true
		}
	}
	return false
}

package main

import (
	"fmt"
	"os"

	"github.com/bbsmail/bbsmail/ctrl"
)

// exposedSecrets warns about files that hold a secret and that the group
// or other users may read: sbbs.ini once it holds RelayPassword (Synchronet
// ships it 0644, and the sysop adds the password later), and the TLS
// private key. ctrl/secret.key is not listed: the mailbase refuses to open
// with a readable one. The server still starts; `bbsmail serve` logs the
// warnings and `bbsmail check` prints them.
func exposedSecrets(cfg *ctrl.Config) []string {
	type file struct{ path, holds string }
	var files []file
	if cfg.Mail.RelayPassword != "" {
		files = append(files, file{cfg.Paths.SBBSIni, "the smarthost password (RelayPassword)"})
	}
	files = append(files, file{cfg.Paths.SSLKey, "the TLS private key"})
	var out []string
	for _, f := range files {
		if f.path == "" {
			continue
		}
		st, err := os.Stat(f.path)
		if err != nil {
			continue // a missing key is created 0600; a missing sbbs.ini holds nothing
		}
		if perm := st.Mode().Perm(); perm&0o077 != 0 {
			out = append(out, fmt.Sprintf("%s holds %s and is readable by group or others (mode %#o): chmod 600 %s",
				f.path, f.holds, perm, f.path))
		}
	}
	return out
}

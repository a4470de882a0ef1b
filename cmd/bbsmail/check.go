package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"slices"

	"github.com/bbsmail/bbsmail/ctrl"
	"github.com/bbsmail/bbsmail/mailproc"
	"github.com/bbsmail/bbsmail/store"
)

// checkCmd loads what serve loads at startup — the control files, the
// mail processors and the mailbase's secret key — and fails where serve
// would, with the same message. It never creates or changes a file and
// never opens the mailbase (a running server holds it).
func checkCmd(dir string, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintln(stderr, "bbsmail:", err)
		return 1
	}
	cfg, err := ctrl.Load(dir)
	if err != nil {
		return fail(err)
	}
	set, procWarnings, err := mailproc.Load(mailprocConfig(cfg, nil, slog.New(slog.DiscardHandler)))
	if err != nil {
		return fail(err)
	}
	if err := checkSecretKey(cfg); err != nil {
		return fail(err)
	}
	if _, err := loadSigner(cfg); err != nil {
		return fail(err)
	}
	if err := cfg.Dump(stdout); err != nil {
		return fail(err)
	}
	for _, n := range cfg.Notices {
		fmt.Fprintln(stderr, "notice:", n)
	}
	for _, w := range slices.Concat(cfg.Warnings, exposedSecrets(cfg)) {
		fmt.Fprintln(stderr, "warning:", w)
	}
	for _, w := range procWarnings {
		fmt.Fprintln(stderr, "warning: mail processors:", w.String())
	}
	if set.Len() > 0 {
		fmt.Fprintf(stdout, "\n%d mail processors from %s\n", set.Len(), set.File())
	} else {
		fmt.Fprintln(stdout, "\nno mail processors")
	}
	if w := checkTLS(cfg); w != "" {
		fmt.Fprintln(stderr, "warning:", w)
	}
	fmt.Fprintf(stdout, "\n%s: configuration OK\n", dir)
	return 0
}

// checkSecretKey reads the mailbase's secret key as serve does, when it
// exists; serve creates a missing one, which is not an error.
func checkSecretKey(cfg *ctrl.Config) error {
	path := secretKeyPath(cfg)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	_, err := store.LoadOrCreateKey(path) // it exists: this only reads it
	return err
}

// checkTLS reports what would turn TLS off at startup. serve runs on
// without TLS, so this is a warning; a missing pair is not, since serve
// creates a self-signed one.
func checkTLS(cfg *ctrl.Config) string {
	_, certErr := os.Stat(cfg.Paths.SSLCert)
	_, keyErr := os.Stat(cfg.Paths.SSLKey)
	if errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist) {
		return ""
	}
	if _, _, err := loadOrCreateCert(cfg.Paths.SSLCert, cfg.Paths.SSLKey, nil); err != nil {
		return fmt.Sprintf("TLS unavailable: %v (STARTTLS, SMTPS and POP3S would be off)", err)
	}
	return ""
}

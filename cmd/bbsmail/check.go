package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"

	"github.com/bbsmail/bbsmail/ctrl"
	"github.com/bbsmail/bbsmail/mailproc"
	"github.com/bbsmail/bbsmail/store"
)

// checkCmd loads what serve loads at startup — the control files, the
// mail processors and the mailbase's secret key — and fails where serve
// would, with the same message. It never creates or changes a file and
// never opens the mailbase (a running server holds it).
func checkCmd(dir string, args []string, stdout, stderr io.Writer) int {
	withDB := len(args) == 1 && (args[0] == "--db" || args[0] == "-db")
	if len(args) > 0 && !withDB {
		fmt.Fprintln(stderr, "usage: bbsmail check [--db]")
		return 2
	}
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
	if withDB {
		return adminCmd(dir, []string{"db", "check"}, nil, stdout, stderr)
	}
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

// checkTLS reports what serve would say about the certificate: a pair
// it cannot use (Synchronet's cryptlib ssl.cert, most often) is a warning
// naming the file, the format wanted and the pair serve falls back to. A
// missing pair is not, since serve creates a self-signed one. check
// never creates files.
func checkTLS(cfg *ctrl.Config) string {
	certFile, keyFile := cfg.Paths.SSLCert, cfg.Paths.SSLKey
	_, certErr := os.Stat(certFile)
	_, keyErr := os.Stat(keyFile)
	if errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist) {
		return ""
	}
	if _, _, err := loadOrCreateCert(certFile, keyFile, nil); err != nil {
		return fmt.Sprintf("TLS: %s; serve uses a self-signed pair in %s and %s meanwhile",
			certProblem(certFile, keyFile, err),
			filepath.Join(cfg.Paths.Ctrl, ownCertName), filepath.Join(cfg.Paths.Ctrl, ownKeyName))
	}
	return ""
}

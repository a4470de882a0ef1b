package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bbsmail/bbsmail/ctrl"
	"github.com/bbsmail/bbsmail/mailauth"
)

// dkimDomain is the d= of the default key: DKIMDomain, else the system's
// Internet address (msgs.ini), else the host name.
func dkimDomain(cfg *ctrl.Config) string {
	for _, d := range []string{cfg.Mail.DKIMDomain, cfg.System.InetAddr, cfg.Host()} {
		if d = strings.TrimSpace(d); d != "" {
			return strings.ToLower(d)
		}
	}
	return ""
}

// dkimKeyPath is where the key of selector lives: ctrl/dkim_<selector>.pem,
// or ctrl/dkim_<selector>_<domain>.pem for a domain's own key.
func dkimKeyPath(cfg *ctrl.Config, selector, domain string) string {
	name := "dkim_" + selector
	if domain != "" {
		name += "_" + strings.ToLower(domain)
	}
	return filepath.Join(cfg.Paths.Ctrl, name+".pem")
}

// loadSigner reads the signing keys when DKIMSign is on; nil, nil when it
// is off. A missing or unusable default key is an error naming the file:
// the sysop asked for signed mail, and unsigned mail would go to spam
// folders without anyone noticing.
func loadSigner(cfg *ctrl.Config) (*mailauth.Signer, error) {
	m := cfg.Mail
	if !m.DKIMSign {
		return nil, nil
	}
	sel := strings.TrimSpace(m.DKIMSelector)
	if sel == "" {
		return nil, errors.New("sbbs.ini [Mail] DKIMSign is on but DKIMSelector is blank")
	}
	dom := dkimDomain(cfg)
	if dom == "" {
		return nil, errors.New("sbbs.ini [Mail] DKIMSign is on but no DKIMDomain is set and the system has no Internet address")
	}
	path := dkimKeyPath(cfg, sel, "")
	key, err := mailauth.LoadKey(path)
	if err != nil {
		return nil, fmt.Errorf("DKIMSign: signing key %s: %w (create one with `bbsmail dkim keygen`)", path, err)
	}
	var own []mailauth.Key
	extra, _ := filepath.Glob(dkimKeyPath(cfg, sel, "*"))
	for _, p := range extra {
		d := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "dkim_"+sel+"_"), ".pem")
		k, err := mailauth.LoadKey(p)
		if err != nil {
			return nil, fmt.Errorf("DKIMSign: signing key %s: %w", p, err)
		}
		own = append(own, mailauth.Key{Domain: d, Selector: sel, Signer: k})
	}
	return mailauth.NewSigner(mailauth.Key{Domain: dom, Selector: sel, Signer: key}, own, cfg.IsLocalDomain), nil
}

// signer is the current DKIM signer, swapped by a reload; its zero value
// signs nothing.
type signer struct {
	cur atomic.Pointer[mailauth.Signer]
}

func (s *signer) set(sg *mailauth.Signer) { s.cur.Store(sg) }

// Sign returns the DKIM-Signature field for msg, or nil when signing is off
// or msg is not from one of the system's domains.
func (s *signer) Sign(msg []byte) ([]byte, error) {
	if s == nil {
		return nil, nil
	}
	sg := s.cur.Load()
	if sg == nil {
		return nil, nil
	}
	return sg.Sign(msg)
}

const dkimUsage = `usage: bbsmail dkim keygen [--selector S] [--domain D] [--type rsa|ed25519] [--bits N] [--force]
       bbsmail dkim check [--selector S] [--domain D]
`

// dkimCmd runs `bbsmail dkim keygen|check`.
func dkimCmd(dir string, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "keygen" && args[0] != "check") {
		fmt.Fprint(stderr, dkimUsage)
		return 2
	}
	cfg, err := ctrl.Load(dir)
	if err != nil {
		fmt.Fprintln(stderr, "bbsmail:", err)
		return 1
	}
	fl := flag.NewFlagSet("dkim "+args[0], flag.ContinueOnError)
	fl.SetOutput(stderr)
	sel := fl.String("selector", cfg.Mail.DKIMSelector, "selector (s=)")
	dom := fl.String("domain", "", "a domain with its own key (default: the DKIMDomain key)")
	typ := fl.String("type", "rsa", "key type: rsa or ed25519")
	bits := fl.Int("bits", mailauth.MinRSABits, "RSA key size")
	force := fl.Bool("force", false, "replace an existing key")
	if err := fl.Parse(args[1:]); err != nil {
		return 2
	}
	d := *dom
	if d == "" {
		d = dkimDomain(cfg)
	}
	path := dkimKeyPath(cfg, *sel, *dom)
	if args[0] == "keygen" {
		err = dkimKeygen(path, *typ, *bits, *force, mailauth.RecordName(*sel, d), stdout)
	} else {
		err = dkimCheck(cfg, path, mailauth.RecordName(*sel, d), stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "bbsmail:", err)
		return 1
	}
	return 0
}

// dkimKeygen writes a new key (mode 0600, never over an existing one
// without force) and prints the record to publish.
func dkimKeygen(path, typ string, bits int, force bool, name string, stdout io.Writer) error {
	key, pemBytes, err := mailauth.GenerateKey(typ, bits)
	if err != nil {
		return err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists; pass --force to replace it (mail signed with the old key stops verifying once its record is gone)", path)
	}
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil { // an existing file keeps its mode otherwise
		f.Close()
		return err
	}
	if _, err := f.Write(pemBytes); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	rec, err := mailauth.TXTRecord(key.Public())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n\nPublish this DNS TXT record:\n\n%s\n\nor, where a form asks for the name and the text apart:\n\n  name: %s\n  text: %s\n",
		path, mailauth.ZoneLine(name, rec), name, rec)
	return nil
}

// dkimCheck looks the record up through DNSServer and compares it with the
// key on disk.
func dkimCheck(cfg *ctrl.Config, path, name string, stdout io.Writer) error {
	key, err := mailauth.LoadKey(path)
	if err != nil {
		return err
	}
	want, err := mailauth.KeyID(key.Public())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	txts, err := resolverFor(cfg.Mail.DNSServer).LookupTXT(ctx, name)
	if err != nil {
		return fmt.Errorf("looking up %s TXT: %w", name, err)
	}
	for _, t := range txts {
		got, err := mailauth.PublishedKey(t)
		if err != nil {
			continue
		}
		if got == want {
			fmt.Fprintf(stdout, "%s: the published record matches %s\n", name, path)
			return nil
		}
	}
	return fmt.Errorf("%s: no published record matches %s (found %d TXT records); publish what `bbsmail dkim keygen` printed", name, path, len(txts))
}

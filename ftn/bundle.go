package ftn

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// bundleRE matches ARCmail bundle names: NNNNnnnn.DDn (FTS-5005 style:
// day of week and a sequence character).
var bundleRE = regexp.MustCompile(`(?i)^[0-9a-f]{8}\.(mo|tu|we|th|fr|sa|su)[0-9a-z]$`)

// unbundle extracts the packets of the ZIP bundles in dir next to them, so
// the scan that follows reads them, and removes each bundle once its
// packets are on disk. A bundle in another archive format is left for a
// tosser with an unarchiver and named in the log once. A crash between
// extraction and removal extracts the packets again next time: duplicate
// netmail is recognised by its key, and echomail tossers detect dupes.
func (s *Scanner) unbundle(dir string, res *ScanResult) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !bundleRE.MatchString(e.Name()) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(path)
		if err != nil || len(b) == 0 {
			continue // empty: binkd's truncated-bundle convention
		}
		if !bytes.HasPrefix(b, []byte("PK\x03\x04")) {
			if info, err := e.Info(); err == nil && !s.noted[path].Equal(info.ModTime()) {
				s.noted[path] = info.ModTime()
				s.Config.log().Info(fmt.Sprintf("FidoNet: bundle %s is not a ZIP archive; left for the tosser", path))
			}
			continue
		}
		n, err := extractPackets(b, dir)
		if err != nil {
			res.Bad++
			s.Config.log().Warn(fmt.Sprintf("FidoNet: bad bundle %s: %v; renamed to .bad", path, err))
			if err := setAside(path); err != nil {
				return err
			}
			continue
		}
		if err := os.Remove(path); err != nil {
			return err
		}
		if err := SyncDir(dir); err != nil {
			return err
		}
		s.Config.log().Info(fmt.Sprintf("FidoNet: unpacked %d packets from bundle %s", n, path))
	}
	return nil
}

// extractPackets writes the *.pkt members of a ZIP bundle into dir under
// names no other file has, each synced and renamed into place whole.
func extractPackets(b []byte, dir string) (int, error) {
	r, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, f := range r.File {
		base := filepath.Base(strings.ReplaceAll(f.Name, `\`, "/"))
		if !strings.EqualFold(filepath.Ext(base), ".pkt") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return n, err
		}
		data, err := io.ReadAll(io.LimitReader(rc, MaxPacket+1))
		rc.Close()
		if err != nil {
			return n, err
		}
		if len(data) > MaxPacket {
			return n, errTooBig
		}
		stem := strings.ToLower(strings.TrimSuffix(base, filepath.Ext(base)))
		final := filepath.Join(dir, stem+".pkt")
		for i := 1; fileExists(final); i++ {
			final = filepath.Join(dir, fmt.Sprintf("%s-%d.pkt", stem, i))
		}
		tmp := final + ".tmp"
		if err := writeFile(tmp, data); err != nil {
			return n, err
		}
		if err := os.Rename(tmp, final); err != nil {
			os.Remove(tmp)
			return n, err
		}
		n++
	}
	return n, nil
}

func fileExists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

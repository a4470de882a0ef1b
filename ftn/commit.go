package ftn

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Commit puts data, a whole new packet, at final for the netmail ids, in
// the order that makes it exactly once: (1) data is written to a temporary
// file next to final and synced; (2) the mailbase marks the netmail packed
// into that file; (3) the file is renamed over final and the directory
// synced; (4) the netmail leaves the mailbase. A crash before (3) leaves
// the temporary file, and RecoverMarks removes it and unmarks the
// netmail; a crash after (3) leaves no temporary file, and RecoverMarks
// completes (4). fresh says data does not add to a packet that was at
// final (see Marks.Exported). step, when not nil, is called after (2) and
// (3). Package qwk writes its REP packets the same way.
func Commit(m Marks, ids []uint64, final, prefix string, data []byte, fresh bool, step func(string)) error {
	if len(ids) == 0 {
		return nil
	}
	dir := filepath.Dir(final)
	tmp := filepath.Join(dir, fmt.Sprintf("%s%d-%d.tmp", prefix, ids[0], time.Now().UnixNano()))
	if err := writeFile(tmp, data); err != nil {
		return err
	}
	if err := m.Pack(ids, tmp, final); err != nil {
		os.Remove(tmp)
		return err
	}
	if step != nil {
		step("packed")
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return errors.Join(err, m.Unpack(ids))
	}
	if err := SyncDir(dir); err != nil {
		return err
	}
	if step != nil {
		step("renamed")
	}
	return m.Exported(ids, final, fresh)
}

// RecoverMarks finishes the commits a crash interrupted (see Commit) and
// returns the temporary files the marks named. It logs through logf.
func RecoverMarks(m Marks, logf func(string)) (map[string]bool, error) {
	marks, err := m.Packed()
	if err != nil {
		return nil, err
	}
	byTmp := map[string][]uint64{}
	finals := map[string]string{}
	for id, mk := range marks {
		byTmp[mk.Tmp] = append(byTmp[mk.Tmp], id)
		finals[mk.Tmp] = mk.Final
	}
	var errs []error
	for tmp, ids := range byTmp {
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		if _, err := os.Stat(tmp); err == nil {
			logf(fmt.Sprintf("an interrupted export left %s; %d netmail will be packed again", tmp, len(ids)))
			os.Remove(tmp)
			errs = append(errs, m.Unpack(ids))
		} else {
			logf(fmt.Sprintf("an interrupted export had put %d netmail in place; finishing", len(ids)))
			errs = append(errs, m.Exported(ids, finals[tmp], false))
		}
	}
	known := map[string]bool{}
	for t := range byTmp {
		known[t] = true
	}
	return known, errors.Join(errs...)
}

// writeFile writes b to a new file at path and syncs it.
func writeFile(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// SyncDir makes a rename or removal in dir durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

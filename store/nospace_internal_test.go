package store

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
)

// bbolt reports a failed grow as text ("file resize error: %s"); the errno
// it names must still be found with errors.Is, and other errors must stay
// as they are.
func TestStorageErr(t *testing.T) {
	trunc := func(errno syscall.Errno) error {
		return fmt.Errorf("file resize error: %s", &os.PathError{Op: "truncate", Path: "data/bbsmail.db", Err: errno})
	}
	for _, c := range []struct {
		err  error
		want error // nil: no storage errno
	}{
		{trunc(syscall.EFBIG), syscall.EFBIG},
		{trunc(syscall.ENOSPC), syscall.ENOSPC},
		{fmt.Errorf("file sync error: %s", syscall.EDQUOT), syscall.EDQUOT},
		{&os.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}, syscall.ENOSPC},
		{trunc(syscall.EIO), nil},
		{errors.New("no space left on device"), nil}, // not from bbolt's grow
		{nil, nil},
	} {
		got := storageErr(c.err)
		if c.err != nil && got.Error() != c.err.Error() {
			t.Errorf("%v: text became %q", c.err, got)
		}
		for _, errno := range storageErrnos {
			if is := errors.Is(got, errno); is != (c.want == errno) {
				t.Errorf("%v: errors.Is(%v) = %v", c.err, errno, is)
			}
		}
	}
}

package store

import (
	"strings"
	"syscall"
)

// storageErrnos are the errors that say the mailbase cannot grow: the file
// system is full, the owner's quota is used up, or the file reached the
// process's file size limit (RLIMIT_FSIZE, EFBIG).
var storageErrnos = []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EFBIG}

// noSpace keeps the text of a bbolt error and adds the errno its text
// names, so errors.Is finds it.
type noSpace struct {
	err   error
	errno syscall.Errno
}

func (e noSpace) Error() string   { return e.err.Error() }
func (e noSpace) Unwrap() []error { return []error{e.err, e.errno} }

// storageErr makes a failure to grow the mailbase recognisable with
// errors.Is(err, syscall.ENOSPC) (or EDQUOT, EFBIG). bbolt formats the
// error of the truncate and fsync that grow the file with %s ("file resize
// error: truncate ...: file too large"), which loses the errno; the
// servers need it to answer "insufficient storage, try later" rather than
// a local error.
func storageErr(err error) error {
	if err == nil {
		return nil
	}
	if storageErrno(err) != 0 {
		return err
	}
	msg := err.Error()
	if !strings.Contains(msg, "file resize error: ") && !strings.Contains(msg, "file sync error: ") {
		return err
	}
	for _, errno := range storageErrnos {
		if strings.HasSuffix(msg, errno.Error()) {
			return noSpace{err: err, errno: errno}
		}
	}
	return err
}

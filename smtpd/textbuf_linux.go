package smtpd

import "syscall"

// reserve maps n octets of anonymous memory, rounded up to whole pages,
// without committing swap for them: only the pages the text is written to
// become resident. It returns nil when the system refuses (then the text
// goes to the Go heap).
func reserve(n int64) []byte {
	page := int64(syscall.Getpagesize())
	size := (n + page - 1) / page * page
	if size <= 0 || size != int64(int(size)) {
		return nil
	}
	b, err := syscall.Mmap(-1, 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		return nil
	}
	return b
}

// release unmaps a range from reserve.
func release(b []byte) { _ = syscall.Munmap(b) }

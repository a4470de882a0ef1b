package main

import (
	"bufio"
	"strings"
	"testing"
	"testing/iotest"
)

// readBody finds the terminating line wherever the reads split the
// stream, also across the ends of the reader's buffer, and stops right
// after it: what follows belongs to the next response.
func TestReadBodyAcrossReads(t *testing.T) {
	bodies := []string{
		"",
		"x\r\n",
		"..\r\n",
		"a\r\n..b\r\n...\r\n",
		"no dot line\r\n.. \r\n\r\n",
		strings.Repeat("0123456789abcdef\r\n..stuffed\r\n", 40),
		strings.Repeat("\r\n", 50) + "..\r\n",
	}
	next := "+OK next\r\n"
	for _, body := range bodies {
		stream := body + ".\r\n" + next
		for _, one := range []bool{false, true} {
			var r *bufio.Reader
			if one {
				r = bufio.NewReaderSize(iotest.OneByteReader(strings.NewReader(stream)), 16)
			} else {
				r = bufio.NewReaderSize(iotest.HalfReader(strings.NewReader(stream)), 16)
			}
			n, err := readBody(r)
			if err != nil || n != len(body) {
				t.Fatalf("body %q (byte by byte %v): %d octets, %v; want %d", body, one, n, err, len(body))
			}
			rest, _ := r.ReadString('\n')
			if rest != next {
				t.Fatalf("body %q (byte by byte %v): next line %q, want %q", body, one, rest, next)
			}
		}
	}
}

// A body cut off before its terminating line is an error, never a
// complete retrieval.
func TestReadBodyTruncated(t *testing.T) {
	for _, s := range []string{"", "abc\r\n", "abc\r\n.", "abc\r\n.\r", ".\r"} {
		if n, err := readBody(bufio.NewReaderSize(strings.NewReader(s), 16)); err == nil {
			t.Errorf("%q read as a whole body of %d octets", s, n)
		}
	}
}

func TestStatusOctets(t *testing.T) {
	for line, want := range map[string]int{"+OK 4321 octets\r\n": 4321, "+OK 0\r\n": 0, "+OK message follows\r\n": -1, "+OK\r\n": -1} {
		n, ok := statusOctets([]byte(line))
		if ok != (want >= 0) || ok && n != want {
			t.Errorf("statusOctets(%q) = %d, %v; want %d", line, n, ok, want)
		}
	}
}

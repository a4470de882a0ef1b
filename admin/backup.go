package admin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"time"
)

// The mailbase maintenance commands: db backup, db check, db purge. Each
// runs on the server's open mailbase through the control socket while the
// server runs, or on the file when it does not. Compacting and restoring
// replace the file and are not here: cmd/bbsmail does them with the
// server stopped.
func init() {
	commands["db"] = map[string]cmdFunc{"backup": dbBackup, "check": dbCheck, "purge": dbPurge}
}

// streamed reports whether a command's standard output is streamed over
// the control socket in chunks as it is written, rather than gathered
// into the reply: a backup is as large as the mailbase.
func streamed(args []string) bool {
	return len(args) == 2 && args[0] == "db" && args[1] == "backup"
}

// dbBackup writes a consistent copy of the mailbase to standard output
// from one read transaction; deliveries go on meanwhile.
func dbBackup(_ context.Context, env Env, args []string, sio stdio) error {
	if len(args) != 0 {
		return usagef("db backup takes no arguments")
	}
	_, err := env.DB.Backup(sio.out, nil)
	return err
}

// dbCheck runs the mailbase consistency check and prints what it holds.
func dbCheck(_ context.Context, env Env, args []string, sio stdio) error {
	if len(args) != 0 {
		return usagef("db check takes no arguments")
	}
	start := time.Now()
	if err := env.DB.Check(); err != nil {
		return err
	}
	st, err := env.DB.Stats()
	if err != nil {
		return err
	}
	fmt.Fprintf(sio.out, "mailbase OK: %d users, %d messages, %d posts, %d netmail, %d queued, %d texts, %d bytes (checked in %v)\n",
		st.Users, st.Messages, st.Posts, st.Netmail, st.Queue, st.Bodies, st.Bytes, time.Since(start).Round(time.Millisecond))
	return nil
}

// dbPurge removes deleted and read kill-read mail; --all-read removes
// every read message (main.ini's Kill Read E-mail).
func dbPurge(_ context.Context, env Env, args []string, sio stdio) error {
	fs := flag.NewFlagSet("db purge", flag.ContinueOnError)
	allRead := fs.Bool("all-read", false, "remove every read message")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("db purge takes no arguments but --all-read")
	}
	st, err := env.DB.Purge(*allRead)
	if err != nil {
		return err
	}
	fmt.Fprintf(sio.out, "purged %d deleted and %d read messages\n", st.Deleted, st.KillRead)
	return nil
}

// chunkMax bounds one chunk of a streamed output.
const chunkMax = 1 << 20

// chunkWriter frames a streamed command's output on the control socket:
// a 4-byte big-endian length, then that many bytes; a zero length ends
// the stream and the usual JSON reply follows. Every chunk gets its own
// deadline, so a long backup is not cut off while it makes progress.
type chunkWriter struct{ c net.Conn }

func (w *chunkWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		part := p[:min(len(p), chunkMax)]
		_ = w.c.SetWriteDeadline(time.Now().Add(time.Minute))
		if _, err := w.c.Write(binary.BigEndian.AppendUint32(nil, uint32(len(part)))); err != nil {
			return n, err
		}
		k, err := w.c.Write(part)
		n += k
		if err != nil {
			return n, err
		}
		p = p[len(part):]
	}
	return n, nil
}

func (w *chunkWriter) end() error {
	_, err := w.c.Write([]byte{0, 0, 0, 0})
	return err
}

// readChunks copies a streamed output to w until its end mark.
func readChunks(c net.Conn, r *bufio.Reader, w io.Writer) error {
	var hdr [4]byte
	for {
		_ = c.SetReadDeadline(time.Now().Add(time.Minute))
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return fmt.Errorf("control socket: stream cut off: %w", err)
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n == 0 {
			return nil
		}
		if n > chunkMax {
			return errors.New("control socket: oversized chunk")
		}
		if _, err := io.CopyN(w, r, int64(n)); err != nil {
			return fmt.Errorf("control socket: stream: %w", err)
		}
	}
}

// serveStreamed runs a streamed command: its output goes out in chunks as
// it is written, its standard error and status in the reply after them.
func serveStreamed(ctx context.Context, c net.Conn, req request, run RunFunc) {
	var stderr bytes.Buffer
	cw := &chunkWriter{c: c}
	code := run(ctx, req.Args, bytes.NewReader(req.Stdin), cw, &stderr)
	if cw.end() != nil {
		return
	}
	_ = c.SetWriteDeadline(time.Now().Add(time.Minute))
	_ = json.NewEncoder(c).Encode(response{Stderr: stderr.Bytes(), Code: code})
}

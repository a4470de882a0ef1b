package qwk

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// MaxFile bounds what one archive member may expand to: a hostile packet
// cannot fill the memory.
const MaxFile = 64 << 20

// files reads the members of a ZIP packet, names upper-cased.
func files(zipped []byte) (map[string][]byte, error) {
	r, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	out := map[string][]byte{}
	for _, f := range r.File {
		if f.FileInfo().IsDir() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrFormat, f.Name, err)
		}
		b, err := io.ReadAll(io.LimitReader(rc, MaxFile+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrFormat, f.Name, err)
		}
		if len(b) > MaxFile {
			return nil, fmt.Errorf("%w: %s expands beyond %d bytes", ErrFormat, f.Name, MaxFile)
		}
		name := f.Name
		if i := strings.LastIndexAny(name, `/\`); i >= 0 {
			name = name[i+1:]
		}
		out[strings.ToUpper(name)] = b
	}
	return out, nil
}

func zipFiles(m map[string][]byte) ([]byte, error) {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, n := range names {
		f, err := w.Create(n)
		if err != nil {
			return nil, err
		}
		if _, err := f.Write(m[n]); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Headers is HEADERS.DAT: per message (by header offset) its fields.
type Headers map[int]map[string]string

// ParseHeaders reads HEADERS.DAT: "[hex offset]" sections of "Key: value"
// (or "Key = value") lines.
func ParseHeaders(b []byte) Headers {
	h := Headers{}
	var cur map[string]string
	for l := range strings.SplitSeq(strings.ReplaceAll(string(b), "\r", ""), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]") {
			off, err := strconv.ParseInt(strings.TrimPrefix(l[1:len(l)-1], "0x"), 16, 64)
			cur = nil
			if err == nil && off >= 0 {
				cur = map[string]string{}
				h[int(off)] = cur
			}
			continue
		}
		if cur == nil || l == "" {
			continue
		}
		i := strings.IndexAny(l, ":=")
		if i <= 0 {
			continue
		}
		k := strings.TrimSpace(l[:i])
		if _, seen := cur[k]; !seen {
			cur[k] = strings.TrimSpace(l[i+1:])
		}
	}
	return h
}

func appendHeaders(b []byte, off int, fields [][2]string) []byte {
	b = fmt.Appendf(b, "[%x]\n", off)
	for _, f := range fields {
		if f[1] != "" {
			b = fmt.Appendf(b, "%s: %s\n", f[0], field(f[1]))
		}
	}
	return append(b, '\n')
}

// AddToREP returns the REP archive for hub with msgs added after what rep
// (an existing archive, or nil) holds. Each message gets a HEADERS.DAT
// section with its full fields and Message-ID.
func AddToREP(rep []byte, hub string, msgs []Message, ids []string) ([]byte, error) {
	hub = strings.ToUpper(hub)
	m := map[string][]byte{}
	if rep != nil {
		var err error
		if m, err = files(rep); err != nil {
			return nil, err
		}
	}
	name := hub + ".MSG"
	data := m[name]
	if len(data) == 0 {
		data = Header(hub)
	}
	if len(data)%BlockLen != 0 {
		return nil, fmt.Errorf("%w: %s in the waiting REP is %d bytes", ErrFormat, name, len(data))
	}
	hdrs := m["HEADERS.DAT"]
	for i := range msgs {
		off := len(data)
		data = Encode(data, &msgs[i])
		id := ""
		if i < len(ids) {
			id = ids[i]
		}
		hdrs = appendHeaders(hdrs, off, [][2]string{{"Message-ID", id}, {"Sender", msgs[i].From},
			{"To", msgs[i].To}, {"Subject", msgs[i].Subject}, {"Conference", strconv.Itoa(int(msgs[i].Conf))}})
	}
	m[name] = data
	m["HEADERS.DAT"] = hdrs
	return zipFiles(m)
}

// ReadPacket reads a QWK packet (MESSAGES.DAT, HEADERS.DAT when present)
// and returns its messages with the HEADERS.DAT fields applied.
func ReadPacket(zipped []byte) ([]Message, Headers, error) {
	m, err := files(zipped)
	if err != nil {
		return nil, nil, err
	}
	data, ok := m["MESSAGES.DAT"]
	if !ok {
		return nil, nil, errors.New("qwk: packet has no MESSAGES.DAT")
	}
	msgs, err := Decode(data)
	if err != nil {
		return nil, nil, err
	}
	h := ParseHeaders(m["HEADERS.DAT"])
	for i := range msgs {
		f := h[msgs[i].Offset]
		if v := f["Sender"]; v != "" {
			msgs[i].From = v
		}
		if v := f["To"]; v != "" {
			msgs[i].To = v
		}
		if v := f["Subject"]; v != "" {
			msgs[i].Subject = v
		}
	}
	return msgs, h, nil
}

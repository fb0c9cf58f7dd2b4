package recipient

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// endless yields head, then fill bytes until n bytes in all (for ever when
// n < 0, as /dev/zero does), then tail; read counts the bytes it gave.
type endless struct {
	head, tail string
	fill       byte
	n, read    int64
}

func (e *endless) Read(p []byte) (int, error) {
	if e.n >= 0 && e.read >= e.n+int64(len(e.tail)) {
		return 0, io.EOF
	}
	for i := range p {
		at := e.read + int64(i)
		switch {
		case at < int64(len(e.head)):
			p[i] = e.head[at]
		case e.n < 0 || at < e.n:
			p[i] = e.fill
		case at < e.n+int64(len(e.tail)):
			p[i] = e.tail[at-e.n]
		default:
			e.read += int64(i)
			return i, nil
		}
	}
	e.read += int64(len(p))
	return len(p), nil
}

// TestRowLongerThanTheLimitStopsTheRead: a row longer than MaxRowBytes (a
// 2 GB field an export left, a line of 100 MB, /dev/zero or a binary file
// named as the recipients file) is refused with the file, the row's line,
// its column and what to do, once MaxRowBytes and a buffer of the input
// were read: memory stays bounded whatever the file. Found by a red team:
// a 100 MB name was read whole and accepted (543 MB of RSS for plan), and
// /dev/zero grew plan's memory by 70 MB a second until the kernel killed it.
func TestRowLongerThanTheLimitStopsTheRead(t *testing.T) {
	t.Parallel()
	const big = 64 << 20 // far more than the limit, without the test holding it
	for _, tc := range []struct {
		name, file string
		src        *endless
		want       []string
	}{
		{"a long unquoted name", "r.csv", &endless{head: "email,locale,name\na@x.test,de,Ann\nb@x.test,de,", fill: 'x', n: big, tail: "\nc@x.test,de,Cy\n"},
			[]string{"r.csv:3:", `column "name"`, "longer than 1 MiB", "no row from line 3 on was read"}},
		{"a quoted field over many lines", "r.csv", &endless{head: "email,locale,note\r\na@x.test,de,\"", fill: '\n', n: big, tail: "\"\r\n"},
			[]string{"r.csv:2:", `column "note"`, "longer than 1 MiB"}},
		{"the header, as from /dev/zero", "zero", &endless{fill: 0, n: -1},
			[]string{"zero:1:", "longer than 1 MiB", "not a recipients file"}},
		{"a JSONL line", "r.jsonl", &endless{head: `{"email":"a@x.test","locale":"de"}` + "\n" + `{"email":"b@x.test","locale":"de","note":"`, fill: 'x', n: big, tail: "\"}\n"},
			[]string{"r.jsonl:2:", "longer than 1 MiB", "no row from line 2 on was read"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var err error
			rd, err := NewReader(tc.src, ReaderConfig{Name: tc.file})
			for err == nil {
				_, err = rd.Next()
				var re *RowError
				if errors.As(err, &re) {
					err = nil // an invalid row: read on
				}
			}
			if errors.Is(err, io.EOF) {
				t.Fatalf("read to the end (%d bytes) with no error: the long row was accepted", tc.src.read)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if limit := int64(MaxRowBytes + 1<<20); tc.src.read > limit {
				t.Errorf("read %d bytes of the input before refusing, more than %d: memory is not bounded by the row limit", tc.src.read, limit)
			}
		})
	}
}

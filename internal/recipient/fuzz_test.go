package recipient

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/tidings-mail/tidings/internal/address"
	"github.com/tidings-mail/tidings/internal/csvcell"
)

// Seeds shared by both targets; the files under testdata/fuzz add more.
var fuzzSeeds = []string{
	"email,locale,name\na@x.test,de,A\njose\u0301@x.test,fr,B\njos\u00e9@x.test,ja,C\n",
	"email,locale\ruser@bücher.test,de\ruser@xn--bcher-kva.test,ja\r",
	"id,email,locale,note\r\n1,a@x.test,de,\"multi\r\nline\"\r\n1,b@x.test,de,x\r\n",
	"email,loc\x00ale\n",
	"{\"email\":\"a@x.test\",\"locale\":\"de\",\"locale\":\"ja\"}\n{\"email\":\"A@X.TEST\",\"Locale\":\"de\"}\n",
	"{\"email\":\"a@x.test\",\"locale\":\"de\",\"k\\u0000\":{}}\r{\"email\":\"b@x.test\",\"locale\":\"de\"}\r",
	"email,locale,name\na@x.test,de,Jos\uFFFD\n",
}

func FuzzReadCSV(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRead(t, data, "f.csv")
	})
}

func FuzzReadJSONL(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRead(t, data, "f.jsonl")
	})
}

// checkRead reads data to the end and checks what the reader promises for
// any input: no panic; every row is either valid or a *RowError, each with
// a line >= 1 that grows from row to row and lies within the file; no
// message holds a control character; valid rows carry a parsed address
// whose identity, like their id, no earlier valid row has. It returns the
// number of valid rows.
func checkRead(t *testing.T, data []byte, name string) int {
	t.Helper()
	printable := func(err error) {
		t.Helper()
		if strings.ContainsFunc(err.Error(), unicode.IsControl) {
			t.Fatalf("error %q holds a control character", err)
		}
	}
	rd, err := NewReader(bytes.NewReader(data), ReaderConfig{Name: name})
	if err != nil {
		printable(err)
		return 0
	}
	// A row starts on a line; lines end in LF, CRLF or CR.
	lines := 1 + bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) - bytes.Count(data, []byte("\r\n"))
	var (
		rows, accepted, invalid int
		lastLine                int
		keys                    = map[string]int{}
		ids                     = map[string]int{}
	)
	for {
		r, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *RowError
		switch {
		case err == nil:
			accepted++
			if r.Address.IsZero() || r.ID == "" || r.Email == "" {
				t.Fatalf("line %d accepted without address or id: %+v", r.Line, r)
			}
			a, perr := address.Parse(r.Email)
			if perr != nil || a.Key() != r.Address.Key() {
				t.Fatalf("line %d: Email %q parses to %v (%v), Address key is %q", r.Line, r.Email, a.Key(), perr, r.Address.Key())
			}
			for _, v := range []string{r.ID, r.Email, r.Name, r.Locale} {
				if strings.ContainsFunc(v, unicode.IsControl) {
					t.Fatalf("line %d accepted with a control character in %q", r.Line, v)
				}
			}
			for _, v := range append([]string{r.ID, r.Email, r.Name, r.Locale}, slices.Collect(maps.Values(r.Fields))...) {
				if strings.ContainsRune(v, utf8.RuneError) || !utf8.ValidString(v) {
					t.Fatalf("line %d accepted with U+FFFD or invalid UTF-8 in %+q", r.Line, v)
				}
			}
			if _, _, hidden := csvcell.Invisible(r.ID); len(r.ID) > MaxIDBytes || hidden || strings.ContainsFunc(r.Name, csvcell.IsDirectionControl) {
				t.Fatalf("line %d accepted with a %d-byte id %+q or name %+q holding what a screen does not show", r.Line, len(r.ID), r.ID, r.Name)
			}
			if first, dup := keys[r.Address.Key()]; dup {
				t.Fatalf("lines %d and %d are the same mailbox %q, both accepted", first, r.Line, r.Address.Key())
			}
			if first, dup := ids[r.ID]; dup {
				t.Fatalf("lines %d and %d have the id %q, both accepted", first, r.Line, r.ID)
			}
			keys[r.Address.Key()], ids[r.ID] = r.Line, r.Line
		case errors.As(err, &re):
			invalid++
			printable(err)
			if re.Line != r.Line {
				t.Fatalf("RowError line %d, Recipient line %d", re.Line, r.Line)
			}
			if re.Code == "" || re.Reason == "" {
				t.Fatalf("row error without code or reason: %+v", re)
			}
		default:
			printable(err) // fatal: reading stops
			return accepted
		}
		rows++
		if r.Line < 1 || r.Line <= lastLine || r.Line > lines {
			t.Fatalf("row %d on line %d (previous %d, file has %d lines)", rows, r.Line, lastLine, lines)
		}
		lastLine = r.Line
	}
	if rows != accepted+invalid {
		t.Fatalf("%d rows, %d accepted + %d invalid", rows, accepted, invalid)
	}
	if _, err := rd.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("Next after the end = %v, want io.EOF", err)
	}
	return accepted
}

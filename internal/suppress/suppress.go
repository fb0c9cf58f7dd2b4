// Package suppress owns suppression lists: the addresses that must never
// be mailed (people who unsubscribed, addresses that bounced hard), read
// from the files an environment or a send names, and the question asked
// of every recipient row: is this mailbox on a list, and where?
//
// A list is a text file of one address a line, or a CSV file whose header
// has an "email" column (any other columns are ignored). Blank lines and
// lines starting with "#" are comments. Addresses are matched by mailbox
// identity (address.Key: NFC, IDNA domain, case-folded), the rule that
// finds duplicate recipients, never by a looser one. A line that holds no
// valid address is an error naming the file, line and field: a list read
// in part would mail the people on the lines passed over.
package suppress

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/tidings-mail/tidings/internal/address"
	"github.com/tidings-mail/tidings/internal/userfile"
)

// Usage describes the command-line option that adds a suppression list
// to the environment's (repeatable).
const Usage = "a suppression list to apply beside the environment's suppression_files: one address a line, or a CSV with an email column; its addresses are skipped (outcome skipped, code suppressed); repeatable; a list that cannot be read stops the command"

// Source is where an address is on a list: the file as named and the line.
type Source struct {
	File string
	Line int
}

// String returns "file:line".
func (s Source) String() string { return fmt.Sprintf("%s:%d", s.File, s.Line) }

// LineError is a line of a list that holds no valid address.
type LineError struct {
	File  string
	Line  int
	Field string // "email" (the line's only field, or the CSV column)
	// Reason says what is wrong and what to do.
	Reason string
}

// Error returns "file:line: field: reason".
func (e *LineError) Error() string {
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Field, e.Reason)
}

// maxErrors is how many bad lines Load names before it counts the rest.
const maxErrors = 20

// ManyError holds the bad lines of a list: the first maxErrors of them,
// and how many there are in all.
type ManyError struct {
	Lines []*LineError
	Total int
}

// Error names each bad line, one a line, and what to do.
func (e *ManyError) Error() string {
	var b strings.Builder
	for _, l := range e.Lines {
		b.WriteString(l.Error())
		b.WriteByte('\n')
	}
	if more := e.Total - len(e.Lines); more > 0 {
		fmt.Fprintf(&b, "... and %d more such lines\n", more)
	}
	fmt.Fprintf(&b, "%d line(s) of the suppression list hold no address tidings can match: fix or remove each (a comment starts with #); nothing is sent until every line is read", e.Total)
	return b.String()
}

// Unwrap returns the bad lines' errors.
func (e *ManyError) Unwrap() []error {
	out := make([]error, len(e.Lines))
	for i, l := range e.Lines {
		out[i] = l
	}
	return out
}

// List is the union of suppression lists: each mailbox's first place on
// them. The zero List (and a nil *List) suppresses nobody.
type List struct {
	files []string
	keys  map[string]Source
	sizes []int // addresses each file holds (repeats counted once a file)
}

// Files returns the files read, in the order given.
func (l *List) Files() []string {
	if l == nil {
		return nil
	}
	return l.files
}

// Len returns how many distinct mailboxes the lists hold.
func (l *List) Len() int {
	if l == nil {
		return 0
	}
	return len(l.keys)
}

// Size returns how many distinct mailboxes file i (of Files) holds.
func (l *List) Size(i int) int { return l.sizes[i] }

// Match returns where the mailbox of a is on the lists (its first place),
// and whether it is.
func (l *List) Match(a address.Address) (Source, bool) {
	if l == nil || len(l.keys) == 0 {
		return Source{}, false
	}
	s, ok := l.keys[a.Key()]
	return s, ok
}

// Load reads the suppression lists at paths (repeats of a path are read
// once). A file that cannot be read is an error (fail closed: a list that
// could not be read must stop the send, not let it mail the people on it),
// and so are bad lines (*ManyError, every file's).
func Load(paths []string) (*List, error) {
	l := &List{keys: map[string]Source{}}
	bad := &ManyError{}
	for _, p := range paths {
		if p == "" || slices.Contains(l.files, p) {
			continue
		}
		b, err := userfile.Read(p)
		if err != nil {
			return nil, fmt.Errorf("read suppression list: %w", err)
		}
		n, err := l.add(bytes.NewReader(b), p, bad)
		if err != nil {
			return nil, err
		}
		l.files, l.sizes = append(l.files, p), append(l.sizes, n)
	}
	if bad.Total > 0 {
		return nil, bad
	}
	return l, nil
}

// Parse reads one list from r, named name in its sources and errors.
func Parse(r io.Reader, name string) (*List, error) {
	l := &List{keys: map[string]Source{}}
	bad := &ManyError{}
	n, err := l.add(r, name, bad)
	if err != nil {
		return nil, err
	}
	if bad.Total > 0 {
		return nil, bad
	}
	l.files, l.sizes = []string{name}, []int{n}
	return l, nil
}

// add reads the list r (named name) into l, noting bad lines in bad, and
// returns how many distinct mailboxes it holds. Its error is of the file
// as a whole (a CSV that cannot be parsed).
func (l *List) add(r io.Reader, name string, bad *ManyError) (int, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return 0, fmt.Errorf("read suppression list %s: %w", name, err)
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF")) // a spreadsheet's "CSV UTF-8"
	seen := map[string]bool{}
	note := func(line int, cell string) {
		e := strings.TrimSpace(cell)
		if e == "" {
			bad.note(&LineError{File: name, Line: line, Field: "email", Reason: "the email is empty: fill it in or remove the line"})
			return
		}
		a, err := address.Parse(norm.NFC.String(e))
		if err != nil {
			bad.note(&LineError{File: name, Line: line, Field: "email", Reason: err.Error()})
			return
		}
		k := a.Key()
		seen[k] = true
		if _, ok := l.keys[k]; !ok {
			l.keys[k] = Source{File: name, Line: line}
		}
	}
	if col, line, ok := header(data); ok {
		if err := readCSV(data, name, col, line, note); err != nil {
			return 0, err
		}
		return len(seen), nil
	}
	for i, ln := range strings.Split(string(data), "\n") {
		ln = strings.TrimSpace(strings.TrimSuffix(ln, "\r"))
		if ln == "" || strings.HasPrefix(ln, "#") {
			continue
		}
		if strings.ContainsAny(ln, ",;\t") {
			bad.note(&LineError{File: name, Line: i + 1, Field: "email",
				Reason: fmt.Sprintf("%q is not one address: a list without a header holds one address a line; for a CSV file, give it a header row with an \"email\" column", clip(ln))})
			continue
		}
		note(i+1, ln)
	}
	return len(seen), nil
}

func (m *ManyError) note(e *LineError) {
	if m.Total++; len(m.Lines) < maxErrors {
		m.Lines = append(m.Lines, e)
	}
}

// header returns the index of the "email" column (any case, spaces
// around it) of the first line that is no comment, when that line is a
// CSV header holding one, and that line's number.
func header(data []byte) (col, line int, ok bool) {
	for i, ln := range strings.Split(string(data), "\n") {
		ln = strings.TrimSpace(strings.TrimSuffix(ln, "\r"))
		if ln == "" || strings.HasPrefix(ln, "#") {
			continue
		}
		rec, err := csv.NewReader(strings.NewReader(ln)).Read()
		if err != nil {
			return 0, 0, false
		}
		for j, c := range rec {
			if strings.EqualFold(strings.TrimSpace(c), "email") {
				return j, i + 1, true
			}
		}
		return 0, 0, false
	}
	return 0, 0, false
}

// readCSV calls note with each row's cell of column col (below the header
// at line hdr) and the row's line.
func readCSV(data []byte, name string, col, hdr int, note func(line int, cell string)) error {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return &LineError{File: name, Line: pe.Line, Field: "email",
					Reason: fmt.Sprintf("the CSV cannot be read (%s): fix the quoting of that line", pe.Err.Error())}
			}
			return fmt.Errorf("read suppression list %s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if line <= hdr {
			continue
		}
		if col >= len(rec) {
			note(line, "")
			continue
		}
		note(line, rec[col])
	}
}

// clip shortens s to at most 60 runes for a message.
func clip(s string) string {
	r := []rune(s)
	if len(r) <= 60 {
		return s
	}
	return string(r[:60]) + "…"
}

// Package recipient reads a recipients file (CSV with a header row, or JSONL)
// as a stream and validates every row.
//
// A row becomes a [Recipient]. The columns email and locale are required; id
// (default: the lower-cased email) and name are optional; every other column
// is template data, available as Recipient.Fields.
//
// Reading is streaming: memory does not grow with the file, except for the
// duplicate detection, which keeps one 64-bit hash and one line number per
// distinct id and per distinct email (about 24 bytes per row and kind at
// worst, so about 50 MB for a million rows).
//
// Validation rules, each reported as a [*RowError] with a stable Code:
//
//   - bad-row: the CSV row has the wrong number of fields or broken quoting;
//     the JSONL line is not a JSON object or holds a value that is not a
//     string, number, boolean or null.
//   - invalid-utf8: a field is not valid UTF-8.
//   - control-character: id, email, name or locale hold a control character
//     (C0, DEL or C1, including CR and LF: this guards against header
//     injection); extra fields may hold tabs and line breaks (a quoted CSV
//     field may span lines) but no other control character. Whoever puts an
//     extra field into a header must still fold or reject line breaks.
//   - missing-field: email is empty, or a JSONL object lacks email or locale.
//   - invalid-email: email is not a bare RFC 5322 address (no display name,
//     no angle brackets, no comments, no quoted local part), has no dot in the
//     domain, or is too long. UTF-8 local parts and domains are accepted.
//   - duplicate-id: the id was seen on an earlier valid row (ids compare
//     exactly).
//   - duplicate-email: the email was seen on an earlier valid row (compared
//     case-insensitively).
//
// Locales are not validated here: the locale rule in package render decides.
//
// Duplicates are detected through 64-bit hashes (hash/maphash, seeded per
// Reader) of the normalised values. Two different values share a hash with
// probability about n²/2⁶⁵: for two million values about 1 in 10 million. Such
// a collision would report a row as a duplicate of the named earlier line,
// which the operator sees in the plan; it can never let a duplicate through.
package recipient

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"net/mail"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// Row error codes, stable: they appear in the rejects file and the report.
const (
	CodeInvalidEmail     = "invalid-email"
	CodeMissingField     = "missing-field"
	CodeDuplicateID      = "duplicate-id"
	CodeDuplicateEmail   = "duplicate-email"
	CodeInvalidUTF8      = "invalid-utf8"
	CodeControlCharacter = "control-character"
	CodeBadRow           = "bad-row"
)

// Recipient is one valid row of a recipients file.
type Recipient struct {
	// Line is the 1-based line where the row starts in the file.
	Line int
	// ID identifies the recipient within the campaign; it defaults to the
	// lower-cased email.
	ID string
	// Email is the address, as written (surrounding spaces removed).
	Email string
	// Name is the optional display name.
	Name string
	// Locale is the requested locale, as written (surrounding spaces removed).
	Locale string
	// Fields holds every extra column by name; nil when there is none.
	Fields map[string]string
}

// RowError reports one invalid row. Reading continues after it.
type RowError struct {
	File   string
	Line   int
	Field  string // column name, "" for the whole row
	Code   string // one of the Code* constants
	Reason string // human explanation
}

// Error returns "file:line: field: reason" (the field part is left out when
// the problem concerns the whole row).
func (e *RowError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Field, e.Reason)
}

// Format is the syntax of a recipients file.
type Format int

const (
	// FormatAuto picks the format from the file name: .jsonl, .ndjson and
	// .json are JSONL, everything else CSV.
	FormatAuto Format = iota
	// FormatCSV is comma-separated values with a header row.
	FormatCSV
	// FormatJSONL is one JSON object per line.
	FormatJSONL
)

// ReaderConfig configures a Reader.
type ReaderConfig struct {
	// Name is the file name used in messages (and for FormatAuto).
	Name string
	// Format of the input; FormatAuto decides by Name's extension.
	Format Format
}

// FormatFor returns the format FormatAuto picks for the file name.
func FormatFor(name string) Format {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jsonl", ".ndjson", ".json":
		return FormatJSONL
	default:
		return FormatCSV
	}
}

// Reader reads and validates recipients one row at a time.
type Reader struct {
	name   string
	format Format

	// CSV
	csv     *csv.Reader
	header  []string
	idxID   int
	idxMail int
	idxName int
	idxLoc  int

	// JSONL
	br   *bufio.Reader
	line int

	extras    []string       // extra columns in file order
	extraSeen map[string]int // JSONL: extra column -> index in extras

	seed   maphash.Seed
	ids    lineSet
	emails lineSet
}

// NewReader returns a Reader for r. For CSV it reads and checks the header
// row at once; an error then names the file and what to do.
func NewReader(r io.Reader, cfg ReaderConfig) (*Reader, error) {
	name := cfg.Name
	if name == "" {
		name = "recipients"
	}
	format := cfg.Format
	if format == FormatAuto {
		format = FormatFor(name)
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	}
	rd := &Reader{name: name, format: format, seed: maphash.MakeSeed(), idxID: -1, idxName: -1}
	if format == FormatJSONL {
		rd.br = br
		rd.extraSeen = map[string]int{}
		return rd, nil
	}
	rd.csv = csv.NewReader(br)
	rd.csv.ReuseRecord = true
	if err := rd.readHeader(); err != nil {
		return nil, err
	}
	return rd, nil
}

func (r *Reader) readHeader() error {
	rec, err := r.csv.Read()
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: the file is empty: add a header row with at least the columns email and locale", r.name)
	}
	if err != nil {
		return fmt.Errorf("%s: read the header row: %w", r.name, err)
	}
	r.header = make([]string, len(rec))
	r.idxMail, r.idxLoc = -1, -1
	seen := map[string]bool{}
	for i, raw := range rec {
		h := strings.TrimSpace(raw)
		if !utf8.ValidString(h) {
			return fmt.Errorf("%s:1: column %d: the header is not valid UTF-8: save the file as UTF-8", r.name, i+1)
		}
		if h == "" {
			return fmt.Errorf("%s:1: column %d has no name: name every column in the header row", r.name, i+1)
		}
		key := strings.ToLower(h)
		if seen[key] {
			return fmt.Errorf("%s:1: column %q appears twice: give every column a distinct name", r.name, h)
		}
		seen[key] = true
		switch key {
		case "email":
			r.idxMail, h = i, key
		case "locale":
			r.idxLoc, h = i, key
		case "id":
			r.idxID, h = i, key
		case "name":
			r.idxName, h = i, key
		default:
			r.extras = append(r.extras, h)
		}
		r.header[i] = h
	}
	var missing []string
	if r.idxMail < 0 {
		missing = append(missing, "email")
	}
	if r.idxLoc < 0 {
		missing = append(missing, "locale")
	}
	if len(missing) > 0 {
		all := strings.Join(r.header, ", ")
		if len(r.header) == 1 && strings.ContainsAny(all, ";\t\x00") {
			// Spreadsheet exports: semicolons or tabs, or UTF-16.
			return fmt.Errorf("%s:1: the header is one column %q: the file is not comma-separated UTF-8 (semicolons, tabs or UTF-16, as spreadsheets often export); save it as \"CSV UTF-8 (comma delimited)\"", r.name, all)
		}
		return fmt.Errorf("%s:1: the header lacks the column(s) %s (it has %s): add them to the first row; columns email and locale are required",
			r.name, strings.Join(missing, ", "), all)
	}
	r.csv.FieldsPerRecord = len(rec)
	return nil
}

// Columns returns the extra (template data) columns in file order. For JSONL
// it is the union of the keys seen so far, in the order first seen, so it is
// complete only once Next has returned io.EOF.
func (r *Reader) Columns() []string {
	return r.extras
}

// Next returns the next row. A *RowError means the row is invalid and reading
// may continue; the returned Recipient then holds Line and whatever fields
// could be read (for the rejects file). io.EOF marks the end; any other error
// is fatal.
func (r *Reader) Next() (Recipient, error) {
	if r.format == FormatJSONL {
		return r.nextJSONL()
	}
	return r.nextCSV()
}

func (r *Reader) nextCSV() (Recipient, error) {
	rec, err := r.csv.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			rcp := Recipient{Line: pe.StartLine}
			if pe.Err == csv.ErrFieldCount && len(rec) > 0 {
				r.fillCSV(&rcp, rec, true)
				return rcp, r.rowErr(pe.StartLine, "", CodeBadRow,
					fmt.Sprintf("the row has %d fields, the header has %d: quote values that contain commas", len(rec), len(r.header)))
			}
			if pe.Err == csv.ErrQuote && pe.Line > pe.StartLine {
				// An unclosed quote swallows every following line into one
				// record: reporting one invalid row would lose the rest.
				return Recipient{}, fmt.Errorf("%s:%d: a quote opened on this line is not closed (the file was read up to line %d as one field): close the quote; no row from line %d on was read", r.name, pe.StartLine, pe.Line, pe.StartLine)
			}
			return rcp, r.rowErr(pe.StartLine, "", CodeBadRow, fmt.Sprintf("broken quoting at line %d, column %d: %s", pe.Line, pe.Column, pe.Err))
		}
		if errors.Is(err, io.EOF) {
			return Recipient{}, io.EOF
		}
		return Recipient{}, fmt.Errorf("read %s: %w", r.name, err)
	}
	line, _ := r.csv.FieldPos(0)
	rcp := Recipient{Line: line}
	// Check encoding and control characters before anything is trusted.
	for i, v := range rec {
		if err := r.checkText(line, r.header[i], v, i != r.idxMail && i != r.idxLoc && i != r.idxID && i != r.idxName); err != nil {
			r.fillCSV(&rcp, rec, true)
			return rcp, err
		}
	}
	r.fillCSV(&rcp, rec, false)
	return rcp, r.validate(&rcp)
}

// fillCSV copies rec into rcp; lax leaves Fields out (for rejected rows).
func (r *Reader) fillCSV(rcp *Recipient, rec []string, lax bool) {
	get := func(i int) string {
		if i < 0 || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	rcp.Email = get(r.idxMail)
	rcp.Locale = get(r.idxLoc)
	rcp.ID = get(r.idxID)
	rcp.Name = get(r.idxName)
	if lax {
		for _, s := range []*string{&rcp.Email, &rcp.Locale, &rcp.ID, &rcp.Name} {
			*s = strings.ToValidUTF8(*s, "\uFFFD")
		}
		return
	}
	if len(r.extras) > 0 {
		rcp.Fields = make(map[string]string, len(r.extras))
		for i, h := range r.header {
			if i != r.idxMail && i != r.idxLoc && i != r.idxID && i != r.idxName {
				rcp.Fields[h] = rec[i]
			}
		}
	}
}

func (r *Reader) nextJSONL() (Recipient, error) {
	for {
		raw, err := r.br.ReadBytes('\n')
		if len(raw) == 0 && err != nil {
			if errors.Is(err, io.EOF) {
				return Recipient{}, io.EOF
			}
			return Recipient{}, fmt.Errorf("read %s: %w", r.name, err)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return Recipient{}, fmt.Errorf("read %s: %w", r.name, err)
		}
		r.line++
		trimmed := bytes.TrimSpace(raw)
		if len(trimmed) == 0 {
			continue
		}
		return r.parseJSONL(r.line, trimmed)
	}
}

func (r *Reader) parseJSONL(line int, data []byte) (Recipient, error) {
	rcp := Recipient{Line: line}
	if !utf8.Valid(data) {
		return rcp, r.rowErr(line, "", CodeInvalidUTF8, "the line is not valid UTF-8: save the file as UTF-8")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return rcp, r.rowErr(line, "", CodeBadRow, "not a JSON object: write one object per line, e.g. {\"email\":\"a@example.com\",\"locale\":\"de\"}")
	}
	vals := make(map[string]string, len(obj))
	for k, v := range obj {
		s, ok := jsonScalar(v)
		if !ok {
			return rcp, r.rowErr(line, k, CodeBadRow, "the value is an object or array: use a string or a number")
		}
		vals[k] = s
	}
	// Required and known keys, case-insensitively like CSV headers.
	var hasMail, hasLoc bool
	var fields map[string]string
	known := map[string]string{} // known name -> the key that gave it
	for k, v := range vals {
		switch lk := strings.ToLower(k); lk {
		case "email", "locale", "id", "name":
			// "locale" and "Locale" in one object: which one wins would
			// depend on map order, and so could the language.
			if other, dup := known[lk]; dup {
				a, b := min(k, other), max(k, other)
				return rcp, r.rowErr(line, lk, CodeBadRow, fmt.Sprintf("the keys %q and %q are the same field: keep one", a, b))
			}
			known[lk] = k
		}
		switch strings.ToLower(k) {
		case "email":
			rcp.Email, hasMail = strings.TrimSpace(v), true
		case "locale":
			rcp.Locale, hasLoc = strings.TrimSpace(v), true
		case "id":
			rcp.ID = strings.TrimSpace(v)
		case "name":
			rcp.Name = strings.TrimSpace(v)
		default:
			if fields == nil {
				fields = make(map[string]string, len(vals))
			}
			fields[k] = v
			if _, ok := r.extraSeen[k]; !ok {
				r.extraSeen[k] = len(r.extras)
				r.extras = append(r.extras, k)
			}
		}
	}
	for _, k := range []struct {
		name string
		val  string
		ext  bool
	}{{"email", rcp.Email, false}, {"locale", rcp.Locale, false}, {"id", rcp.ID, false}, {"name", rcp.Name, false}} {
		if err := r.checkText(line, k.name, k.val, k.ext); err != nil {
			return rcp, err
		}
	}
	for k, v := range fields {
		if err := r.checkText(line, k, v, true); err != nil {
			return rcp, err
		}
	}
	if !hasMail {
		return rcp, r.rowErr(line, "email", CodeMissingField, "the object has no \"email\": add it")
	}
	if !hasLoc {
		return rcp, r.rowErr(line, "locale", CodeMissingField, "the object has no \"locale\": add it (an empty string is allowed and refused or mapped by the locale policy)")
	}
	rcp.Fields = fields
	return rcp, r.validate(&rcp)
}

// jsonScalar returns a JSON string, number, boolean or null as text.
func jsonScalar(v json.RawMessage) (string, bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "", false
	}
	switch v[0] {
	case '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", false
		}
		return s, true
	case '{', '[':
		return "", false
	case 'n':
		return "", true
	default: // number, true, false: the literal text
		return string(v), true
	}
}

// checkText checks encoding and control characters of one value.
func (r *Reader) checkText(line int, field, v string, extra bool) error {
	for i := 0; i < len(v); {
		c := v[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				if extra && (c == '\n' || c == '\r' || c == '\t') {
					i++
					continue
				}
				return r.rowErr(line, field, CodeControlCharacter,
					fmt.Sprintf("holds the control character U+%04X at byte %d: remove it", c, i))
			}
			i++
			continue
		}
		ru, size := utf8.DecodeRuneInString(v[i:])
		if ru == utf8.RuneError && size == 1 {
			return r.rowErr(line, field, CodeInvalidUTF8,
				fmt.Sprintf("is not valid UTF-8 (byte 0x%02X at offset %d): save the file as UTF-8", c, i))
		}
		if ru >= 0x80 && ru <= 0x9f {
			return r.rowErr(line, field, CodeControlCharacter,
				fmt.Sprintf("holds the control character U+%04X at byte %d: remove it", ru, i))
		}
		i += size
	}
	return nil
}

// validate checks a decoded row and records its id and email.
func (r *Reader) validate(rcp *Recipient) error {
	if rcp.Email == "" {
		return r.rowErr(rcp.Line, "email", CodeMissingField, "the email is empty: fill it in or remove the row")
	}
	if reason := CheckEmail(rcp.Email); reason != "" {
		return r.rowErr(rcp.Line, "email", CodeInvalidEmail, reason)
	}
	lower := lowerEmail(rcp.Email)
	if rcp.ID == "" {
		rcp.ID = lower
	}
	hID := maphash.String(r.seed, rcp.ID)
	hMail := maphash.String(r.seed, lower)
	if first := r.ids.get(hID); first != 0 {
		return r.rowErr(rcp.Line, "id", CodeDuplicateID,
			fmt.Sprintf("duplicate id %q, first seen on line %d: give every recipient a distinct id", rcp.ID, first))
	}
	if first := r.emails.get(hMail); first != 0 {
		return r.rowErr(rcp.Line, "email", CodeDuplicateEmail,
			fmt.Sprintf("duplicate email %q, first seen on line %d: keep one row per address", rcp.Email, first))
	}
	r.ids.put(hID, uint32(rcp.Line))
	r.emails.put(hMail, uint32(rcp.Line))
	return nil
}

func (r *Reader) rowErr(line int, field, code, reason string) *RowError {
	return &RowError{File: r.name, Line: line, Field: field, Code: code, Reason: reason}
}

func lowerEmail(s string) string {
	return strings.ToLower(s)
}

// specials are characters no bare address of ours contains.
const specials = " <>\"(),;:[]\\"

// CheckEmail returns "" when s is an acceptable bare email address, else the
// reason (with what to do) it is not. It is used for recipients and is
// exported for the allowlist and test-send addresses.
func CheckEmail(s string) string {
	if len(s) > 254 {
		return "the address is longer than 254 bytes"
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return fmt.Sprintf("%q is not an email address: write it as local@domain", s)
	}
	local, domain := s[:at], s[at+1:]
	if len(local) > 64 {
		return "the part before @ is longer than 64 bytes"
	}
	if strings.ContainsAny(s, specials) {
		return fmt.Sprintf("%q is not a bare address: write only local@domain, without display name, brackets, quotes or spaces", s)
	}
	// Plain ASCII dot-atoms (nearly every address) are checked here; the
	// rest (UTF-8, unusual forms) goes through net/mail.
	if !isDotAtomASCII(local) || !isDotAtomASCII(domain) {
		a, err := mail.ParseAddress(s)
		if err != nil || a.Name != "" || a.Address != s {
			return fmt.Sprintf("%q is not a valid email address: check for typos", s)
		}
	}
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return fmt.Sprintf("%q has no valid domain (like example.com) after @: check for typos", s)
	}
	for rest := domain; rest != ""; {
		label := rest
		if i := strings.IndexByte(rest, '.'); i >= 0 {
			label, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		if strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return fmt.Sprintf("%q has a domain label starting or ending with '-': check for typos", s)
		}
	}
	return ""
}

// isDotAtomASCII reports whether s is an RFC 5322 dot-atom of ASCII atext.
func isDotAtomASCII(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	prevDot := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if prevDot {
				return false
			}
			prevDot = true
			continue
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0:
		default:
			return false
		}
		prevDot = false
	}
	return true
}

// lineSet maps 64-bit hashes to 1-based line numbers with open addressing.
// Zero marks an empty slot; a zero hash is stored as 1.
type lineSet struct {
	keys  []uint64
	lines []uint32
	n     int
}

func (s *lineSet) get(h uint64) uint32 {
	if h == 0 {
		h = 1
	}
	if len(s.keys) == 0 {
		return 0
	}
	mask := uint64(len(s.keys) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.keys[i] {
		case 0:
			return 0
		case h:
			return s.lines[i]
		}
	}
}

func (s *lineSet) put(h uint64, line uint32) {
	if h == 0 {
		h = 1
	}
	if line == 0 {
		line = 1
	}
	if (s.n+1)*4 > len(s.keys)*3 {
		s.grow()
	}
	mask := uint64(len(s.keys) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		if s.keys[i] == 0 {
			s.keys[i], s.lines[i] = h, line
			s.n++
			return
		}
		if s.keys[i] == h {
			return
		}
	}
}

func (s *lineSet) grow() {
	size := 1024
	if len(s.keys) > 0 {
		size = len(s.keys) * 2
	}
	old, oldLines := s.keys, s.lines
	s.keys, s.lines, s.n = make([]uint64, size), make([]uint32, size), 0
	for i, k := range old {
		if k != 0 {
			s.put(k, oldLines[i])
		}
	}
}

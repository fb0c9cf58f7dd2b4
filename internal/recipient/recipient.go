// Package recipient reads a recipients file (CSV with a header row, or JSONL)
// as a stream and validates every row.
//
// A row becomes a [Recipient]. The columns email and locale are required; id
// and name are optional; every other column is template data, available as
// Recipient.Fields.
//
// The file is UTF-8 (a byte order mark is skipped). Lines end in LF, CRLF or,
// as old spreadsheet exports write them, CR alone: a file whose first line
// ends in a lone CR has every lone CR read as a line end, so its rows and
// line numbers come out as they would with LF. In any other file a lone CR
// outside a quoted CSV field, or in JSONL outside an object, ends a line
// too (two exports pasted together), and counts in the line numbers; inside
// a quoted field it is part of the value. A UTF-16 file (a UTF-16 byte
// order mark, or NUL bytes in the CSV header or the first JSONL line) is
// refused with what to do, and so is a CSV file in Latin-1 or
// Windows-1252 (or Mac Roman, when its lines end in CR): its second value that is not UTF-8, with no UTF-8
// character before it, ends the reading (Reader.notUTF8).
//
// Column names and JSONL keys are compared without case and without white
// space around them, so a JSONL key " name" is the name as a CSV column
// " name" is. A column or key that is email, locale, id or name but for a
// character a spreadsheet does not show (a zero-width space, a byte order
// mark, a soft hyphen) is refused, naming the character and its byte: it
// would be template data silently. Errors about the header name its line
// (blank lines and lines of spaces before it are skipped) and quote its
// columns; a header separated by semicolons or tabs is refused as such.
//
// Identity: one person, one message. Every email goes through package
// address: the local part is NFC-normalised and the domain goes through IDNA
// (lookup profile, lower case), so "josé@x.test" in NFC and in NFD,
// "user@bücher.test" and "user@xn--bcher-kva.test", or "a@EXAMPLE.com" and
// "A@example.com" are one recipient. The default id is that identity,
// [address.Address.Key]: the local part NFC-normalised and lower-cased, "@",
// the domain in Unicode form (U-labels), lower case, e.g.
// "josé@bücher.test" for "JOSÉ@XN--BCHER-KVA.test".
//
// Reading is streaming: memory does not grow with the file, except for the
// duplicate detection, which keeps one 64-bit hash and one line number per
// distinct id and per distinct email (about 24 bytes per row and kind at
// worst, so about 50 MB for a million rows).
//
// Validation rules, each reported as a [*RowError] with a stable Code:
//
//   - bad-row: the CSV row has the wrong number of fields or broken quoting;
//     the JSONL line is not one JSON object, holds a value that is not a
//     string, number, boolean or null, gives a key twice (compared
//     without case and without spaces around it: "locale" and " Locale"
//     are one key), or gives email, locale, id or name with an invisible
//     character in it. A JSON syntax error
//     in a value ("id":007, "id":abc) or right after one (a missing or
//     trailing comma) names that key as the field and quotes the value as
//     written.
//   - invalid-utf8: a field is not valid UTF-8, or holds U+FFFD, the
//     replacement character a lossy conversion leaves where a character was
//     (written or, in JSONL, escaped as \ufffd): the character is lost
//     either way, and a message would carry "Jos\uFFFD". In JSONL also a
//     \u escape of half a UTF-16 surrogate pair ("\ud83d" without its
//     "\ude00"): it is not a character, and encoding/json would read it as
//     U+FFFD without an error; a key with such an escape is refused too (a
//     key, like a CSV header, may hold U+FFFD itself).
//   - mojibake: a field holds UTF-8 read as Windows-1252 and written as
//     UTF-8 again ("JosÃ©" for "José"); in a CSV file where no value before
//     held a character beyond ASCII outside such a sequence, the second
//     such value ends the reading (the file was converted twice).
//   - control-character: id, email, name or locale hold a control character
//     (C0, DEL or C1, including CR and LF: this guards against header
//     injection); extra fields may hold tabs and line breaks (a quoted CSV
//     field may span lines) but no other control character; a JSONL key
//     holds none (but white space around it); a JSONL line holds no NUL
//     byte (UTF-16 text). Whoever puts an extra field into a header must still fold
//     or reject line breaks.
//   - missing-field: email is empty, or a JSONL object lacks email or locale.
//   - invalid-email: email is not a bare address as package address accepts
//     it (no display name, brackets, comments or quoted local part; a domain
//     with a dot that is a valid IDNA name; length limits).
//   - duplicate-email: the email has the identity of an earlier valid row
//     (checked first: two spellings of one mailbox are this, not
//     duplicate-id).
//   - duplicate-id: the id was seen on an earlier valid row (ids compare
//     exactly).
//
// Error messages never hold a raw control character: values are quoted.
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
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"

	"github.com/tidings-mail/tidings/internal/address"
	"github.com/tidings-mail/tidings/internal/csvcell"
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
	// CodeTooLong: an id longer than MaxIDBytes, or a name longer than
	// MaxNameChars.
	CodeTooLong = "too-long"
	// CodeInvisibleCharacter: an id holding a character no screen shows
	// (a format character such as a direction control or a zero-width
	// space, or white space other than the space).
	CodeInvisibleCharacter = "invisible-character"
	// CodeDirectionControl: a name holding a bidirectional embedding,
	// override or isolate control (U+202A-U+202E, U+2066-U+2069).
	CodeDirectionControl = "direction-control"
	// CodeMojibake: a value holding UTF-8 that was read as Windows-1252
	// and written as UTF-8 again ("JosÃ©" for "José").
	CodeMojibake = "mojibake"
)

// MaxIDBytes is the longest id a row may give, in bytes: an id is a key
// (in the ledger, the journal, reports and the console), and a default id,
// the address's identity, is at most 254.
const MaxIDBytes = 255

// MaxNameChars is the longest name a row may give, in characters (runes,
// so that every script has the same room): a name is the To: header's
// display name, and a longer one is a column an export ran on, which would
// put up to a megabyte into the header, where a relay may cut it (Postfix
// keeps 102,400 bytes of a header: header_size_limit) or refuse the
// message. 2,000 characters of four bytes each stay under 30,000 bytes once
// RFC 2047 encodes them, and no person's name comes near.
const MaxNameChars = 2000

// NullNames are the spellings database exports write for a missing value
// (MySQL's and PostgreSQL's COPY text `\N`, `NULL` of SQL Server and
// MySQL Workbench exports, `(null)` of printf-style tools): a name that
// is exactly one of them (spaces around it removed, case kept) is no
// name, so that nobody is greeted "Hello NULL". Any other spelling, such
// as "Null" or "null" (people are named Null), is a name.
var NullNames = []string{`\N`, "NULL", "(null)"}

// MaxRowBytes is the most bytes one row may hold: a CSV record (its quoted
// line breaks included) or a JSONL line. A longer one (a field an export
// ran on for megabytes, or a file that is not a recipients file at all,
// such as /dev/zero) stops the read with its line, so that memory stays
// bounded whatever the file holds.
const MaxRowBytes = 1 << 20

// Recipient is one valid row of a recipients file.
type Recipient struct {
	// Line is the 1-based line where the row starts in the file.
	Line int
	// ID identifies the recipient within the campaign; it defaults to the
	// address's identity, Address.Key() (see the package comment).
	ID string
	// Email is the address as written (surrounding spaces removed), in
	// Unicode normalisation form C.
	Email string
	// Address is Email parsed and normalised: Address.ASCII() is the form
	// for the SMTP envelope. It is the zero Address on invalid rows.
	Address address.Address
	// Name is the optional display name.
	Name string
	// NullName is the name as written when it was one of NullNames, a
	// database export's null, which is read as no name (Name is then
	// empty); "" otherwise.
	NullName string
	// Locale is the requested locale, as written (surrounding spaces removed).
	Locale string
	// Fields holds every extra column by name; nil when there is none.
	Fields map[string]string
}

// HeaderError reports a CSV header that lacks required columns (email,
// locale), all of them at once.
type HeaderError struct {
	File    string
	Line    int      // the header's line: blank lines before it are skipped
	Missing []string // the required columns the header lacks
	Has     []string // the columns it has, email, locale, id and name in lower case
}

// Error returns "file:line: the header lacks the column(s) ...", with the
// columns the header has, quoted (a control or invisible character shows
// as an escape such as \u200b), the first invisible character one of them
// holds, and what to do.
func (e *HeaderError) Error() string {
	has := make([]string, len(e.Has))
	hidden := ""
	for i, h := range e.Has {
		has[i] = strconv.Quote(h)
		if c, at, ok := csvcell.Invisible(h); ok && hidden == "" {
			hidden = fmt.Sprintf("; column %d holds the invisible character U+%04X at byte %d", i+1, c, at)
		}
	}
	return fmt.Sprintf("%s:%d: the header lacks the column(s) %s (it has %s%s): %sadd them to the header row; columns email and locale are required",
		e.File, e.Line, strings.Join(e.Missing, ", "), strings.Join(has, ", "), hidden, e.rename())
}

// spellings are the usual other names of the required columns in exports,
// lower case and without spaces, "-" and "_".
var spellings = map[string][]string{
	"email":  {"email", "mail", "emailaddress", "mailaddress", "useremail"},
	"locale": {"locale", "language", "lang", "languagecode", "langcode", "localecode", "preferredlanguage", "preferredlocale", "userlocale", "culture"},
}

// rename says which column of the header to rename to each missing one,
// the first whose name is one of its spellings: `rename column 1
// ("E-mail") to email, if that is what it holds, else `; "" if none is.
func (e *HeaderError) rename() string {
	squeeze := strings.NewReplacer(" ", "", "-", "", "_", "")
	var parts []string
	for _, want := range e.Missing {
		for i, h := range e.Has {
			if slices.Contains(spellings[want], squeeze.Replace(strings.ToLower(h))) {
				parts = append(parts, fmt.Sprintf("column %d (%q) to %s", i+1, h, want))
				break
			}
		}
	}
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return "rename " + parts[0] + ", if that is what it holds, else "
	}
	return "rename " + strings.Join(parts, " and ") + ", if that is what they hold, else "
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
// the problem concerns the whole row). A field name holding a control
// character is quoted.
func (e *RowError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason)
	}
	field := e.Field
	if _, _, ok := firstControl(field); ok {
		field = strconv.Quote(field)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, field, e.Reason)
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
	csv        *csv.Reader
	header     []string
	headerLine int
	idxID      int
	idxMail    int
	idxName    int
	idxLoc     int

	ends  *lineEnds // what the CSV reader reads
	first string    // the first line not blank, as written: the header's, for separatorError
	// JSONL
	br   *bufio.Reader
	line int

	extras    []string       // extra columns in file order
	extraSeen map[string]int // JSONL: extra column -> index in extras

	seed   maphash.Seed
	ids    lineSet
	emails lineSet

	// A CSV file saved in Latin-1 or Windows-1252 (see notUTF8).
	sawUTF8   bool         // a value held a character beyond ASCII, in UTF-8
	firstNot8 *notUTF8Byte // the first value with a byte that is not UTF-8, while !sawUTF8
	sawClean  bool         // a value held a character beyond ASCII, in no mojibake sequence
	firstMoji *mojibakeAt  // the first value with a mojibake sequence, while !sawClean
}

// notUTF8Byte is where a value held a byte that is not UTF-8.
type notUTF8Byte struct {
	line  int
	field string
	b     byte
}

// NewReader returns a Reader for r. It refuses UTF-16 input, and for CSV it
// reads and checks the header row at once; an error then names the file and
// what to do.
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
	if bom, err := br.Peek(2); err == nil && (bytes.Equal(bom, []byte("\xff\xfe")) || bytes.Equal(bom, []byte("\xfe\xff"))) {
		return nil, fmt.Errorf("%s: the file is UTF-16 (it begins with a UTF-16 byte order mark): save it as UTF-8 (in a spreadsheet: \"CSV UTF-8 (comma delimited)\")", name)
	}
	src := &lineEnds{r: br, allCR: crLineEnds(br), jsonl: format == FormatJSONL}
	rd := &Reader{name: name, format: format, seed: maphash.MakeSeed(), idxID: -1, idxName: -1, ends: src}
	if format == FormatJSONL {
		if line, ok := nulFirstLine(br); ok {
			// The CSV header check finds these NULs; JSONL has no header.
			return nil, fmt.Errorf("%s:%d: the line holds NUL bytes: %s", name, line, utf16Advice)
		}
		rd.br = bufio.NewReaderSize(src, 64<<10)
		rd.extraSeen = map[string]int{}
		return rd, nil
	}
	rd.first = firstLine(br)
	rd.csv = csv.NewReader(src)
	rd.csv.ReuseRecord = true
	if err := rd.readHeader(); err != nil {
		return nil, err
	}
	return rd, nil
}

// utf16Advice ends the message about NUL bytes, which a UTF-16 file without
// a byte order mark has in every other byte.
const utf16Advice = `the file looks like UTF-16; save it as UTF-8 (in a spreadsheet: "CSV UTF-8 (comma delimited)")`

// nulFirstLine reports whether the first line of the buffered input that
// is not blank holds a NUL byte, and that line's number.
func nulFirstLine(br *bufio.Reader) (int, bool) {
	buf, _ := br.Peek(br.Size())
	for line := 1; len(buf) > 0; line++ {
		text, rest, _ := bytes.Cut(buf, []byte("\n"))
		if len(bytes.TrimSpace(text)) > 0 {
			return line, bytes.IndexByte(text, 0) >= 0
		}
		buf = rest
	}
	return 0, false
}

// crLineEnds reports whether the first line of the buffered input ends in a
// lone CR (not CRLF): then the file uses CR line endings.
func crLineEnds(br *bufio.Reader) bool {
	buf, err := br.Peek(br.Size())
	i := bytes.IndexAny(buf, "\r\n")
	if i < 0 || buf[i] == '\n' {
		return false
	}
	if i+1 < len(buf) {
		return buf[i+1] != '\n'
	}
	// The CR is the last byte peeked: a lone CR only if the input ends.
	return err != nil
}

// lineEnds turns a CR not followed by LF (a lone CR) into LF where it ends
// a line, so that every line end reads as LF: in a file whose lines end in
// CR (allCR), every lone CR; in any other file, a lone CR outside a quoted
// CSV field, or in JSONL outside any object or string (as when two exports,
// one with CR line ends, were pasted together). A lone CR inside a quoted
// CSV field stays part of the value; inside a JSONL object it is white
// space or, in a string, a control character the row is refused for. A
// CRLF stays as it is. Line numbers count the line ends it makes, as an
// editor that shows a lone CR as a line break does.
//
// It follows the quoting as encoding/csv reads it (no lazy quotes, no
// trimming of leading space): a field is quoted when its first character
// is a quote, a doubled quote inside it is a quote, and after a broken
// quote the rest of the line is skipped.
type lineEnds struct {
	r     *bufio.Reader
	allCR bool
	jsonl bool
	state byte // one of the scan* constants
	depth int  // JSONL: objects and arrays open on this line

	// The row being read, to stop at MaxRowBytes.
	lines   int   // line ends read
	row     int   // bytes of the row read, its line ends within quotes included
	rowLine int   // the line it starts on
	field   int   // CSV: the column it has reached, from 0
	err     error // a *rowTooLongError, returned by every Read once met

	// CSV: where the last quoted field opened (its quote's line and byte
	// column, from 1, as encoding/csv counts them), and whether the input
	// ended inside it.
	col                 int
	quoteLine, quoteCol int
	endQuoted           bool
	// CSV: blank is set while an unquoted field holds only spaces and
	// tabs; spaced holds the quotes encoding/csv refuses for a space
	// before (true) or after (false) them, by line and column, until
	// nextCSV takes them.
	blank  bool
	spaced map[[2]int]bool
}

const (
	scanStart    = iota // CSV: at the start of a field; JSONL: outside strings
	scanUnquoted        // CSV: in an unquoted field, or the rest of a broken line
	scanQuoted          // CSV: in a quoted field; JSONL: in a string
	scanQuote           // CSV: a quote in a quoted field, closing it or doubled; JSONL: a backslash in a string
	scanBroken          // CSV: the rest of a line encoding/csv refuses (a bare quote, text after a closing quote): it skips to its end
)

func (c *lineEnds) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	for i := 0; i < n; i++ {
		b := p[i]
		if b == '\r' && c.lone(p, i, n) && (c.allCR || c.outside()) {
			p[i], b = '\n', '\n'
		}
		if !c.count(b) {
			c.err = &rowTooLongError{line: c.rowLine, field: c.field}
			return i, c.err
		}
		c.col++
		if b == '\n' {
			c.col = 0
		}
		c.scan(b)
	}
	if err == io.EOF && !c.jsonl && c.state == scanQuoted {
		c.endQuoted = true
	}
	return n, err
}

// space records a quote at col of this line that encoding/csv refuses for
// a space before it (before) or after it.
func (c *lineEnds) space(col int, before bool) {
	if c.spaced == nil {
		c.spaced = map[[2]int]bool{}
	}
	c.spaced[[2]int{c.lines + 1, col}] = before
}

// spaceAt reports whether the quote encoding/csv refused at line and col
// has a space before it (before) or after it (!before), and forgets it.
func (c *lineEnds) spaceAt(line, col int) (before, ok bool) {
	k := [2]int{line, col}
	before, ok = c.spaced[k]
	delete(c.spaced, k)
	return before, ok
}

// openAtEnd reports whether the input ended inside the quoted field that a
// csv.ErrQuote at line reports, and where that field's quote is.
func (c *lineEnds) openAtEnd(line int) (qline, qcol int, ok bool) {
	// A quote encoding/csv refuses ends its record, and the rest of that
	// line is skipped, so a quote opened later is on a later line.
	if !c.endQuoted || line < c.quoteLine {
		return 0, 0, false
	}
	return c.quoteLine, c.quoteCol, true
}

// count adds b, before scan sees it, to the row being read, and reports
// whether the row still holds at most MaxRowBytes.
func (c *lineEnds) count(b byte) bool {
	if b == '\n' {
		c.lines++
		if c.jsonl || c.state != scanQuoted {
			c.row = 0 // the row ends
			return true
		}
	}
	if c.row == 0 {
		c.rowLine, c.field = c.lines+1, 0
	}
	if !c.jsonl && b == ',' && c.state != scanQuoted {
		c.field++
	}
	c.row++
	return c.row <= MaxRowBytes
}

// rowTooLongError is a row longer than MaxRowBytes, from line; field is
// the CSV column (from 0) it had reached.
type rowTooLongError struct{ line, field int }

func (e *rowTooLongError) Error() string {
	return fmt.Sprintf("line %d: the row is longer than %d bytes", e.line, MaxRowBytes)
}

// tooLong words err when it is a row longer than MaxRowBytes, with the
// file, the line and the column; else it is nil.
func (r *Reader) tooLong(err error) error {
	var e *rowTooLongError
	if !errors.As(err, &e) {
		return nil
	}
	what := fmt.Sprintf("the row is longer than %d MiB, the most one row may hold", MaxRowBytes>>20)
	if r.format == FormatCSV && r.header == nil {
		return fmt.Errorf("%s:%d: the header row is longer than %d MiB: this is not a recipients file (a CSV file whose first row names the columns, email and locale among them): name the recipients file in the campaign file", r.name, e.line, MaxRowBytes>>20)
	}
	where := fmt.Sprintf("%s:%d", r.name, e.line)
	if r.format == FormatCSV {
		col := fmt.Sprintf("column %d", e.field+1)
		if e.field < len(r.header) {
			col = fmt.Sprintf("column %q", r.header[e.field])
		}
		where += ": " + col
	}
	return fmt.Errorf("%s: %s: a value runs on (an export that lost its line ends or a closing quote), or the file is not a recipients file; no row from line %d on was read: fix the row and run again", where, what, e.line)
}

// lone reports whether the CR at p[i] is not followed by LF.
func (c *lineEnds) lone(p []byte, i, n int) bool {
	if i+1 < n {
		return p[i+1] != '\n'
	}
	next, err := c.r.Peek(1)
	return err != nil || next[0] != '\n'
}

// outside reports whether a line end may stand where the scan is.
func (c *lineEnds) outside() bool {
	if c.jsonl {
		return c.state == scanStart && c.depth == 0
	}
	return c.state != scanQuoted
}

func (c *lineEnds) scan(b byte) {
	if b == '\n' && (c.jsonl || c.state != scanQuoted) {
		c.state, c.depth = scanStart, 0
		return
	}
	if c.jsonl {
		switch c.state {
		case scanStart:
			switch b {
			case '"':
				c.state = scanQuoted
			case '{', '[':
				c.depth++
			case '}', ']':
				c.depth = max(c.depth-1, 0)
			}
		case scanQuoted:
			switch b {
			case '\\':
				c.state = scanQuote
			case '"':
				c.state = scanStart
			}
		case scanQuote:
			c.state = scanQuoted
		}
		return
	}
	switch c.state {
	case scanStart:
		switch b {
		case '"':
			c.state = scanQuoted
			c.quoteLine, c.quoteCol = c.lines+1, c.col
		case ',':
		default:
			c.state = scanUnquoted
			c.blank = b == ' ' || b == '\t'
		}
	case scanUnquoted:
		switch b {
		case ',':
			c.state = scanStart
		case '"':
			c.state = scanBroken // a bare quote
			if c.blank {
				c.space(c.col, true)
			}
		case ' ', '\t':
		default:
			c.blank = false
		}
	case scanQuoted:
		if b == '"' {
			c.state = scanQuote
		}
	case scanQuote:
		switch b {
		case '"':
			c.state = scanQuoted
		case ',':
			c.state = scanStart
		default:
			c.state = scanBroken // text after a closing quote
			if b == ' ' || b == '\t' {
				c.space(c.col-1, false)
			}
		}
	}
}

func (r *Reader) readHeader() error {
	// Lines of spaces and tabs before the header are skipped as blank
	// lines are; the field count is the header's, not theirs.
	r.csv.FieldsPerRecord = -1
	var (
		rec   []string
		err   error
		blank bool
	)
	for hinted := false; ; {
		rec, err = r.csv.Read()
		if err != nil {
			break
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			blank = true
			continue
		}
		sep, ok := separatorHint(rec)
		if !ok || hinted {
			break
		}
		if sep != ',' {
			line, _ := r.csv.FieldPos(0)
			return fmt.Errorf("%s:%d: the line %q says that the file is separated by %s, not commas: save it as \"CSV UTF-8 (comma delimited)\", or export it with commas between the values", r.name, line, strings.Join(rec, ","), separatorName(sep))
		}
		hinted = true // Excel's "sep=,": the header follows
	}
	if errors.Is(err, io.EOF) {
		only := ""
		if blank {
			only = " (it holds only white space)"
		}
		return fmt.Errorf("%s: the file is empty%s: add a header row with at least the columns email and locale", r.name, only)
	}
	if tl := r.tooLong(err); tl != nil {
		return tl
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if serr := r.separatorError(pe.StartLine); serr != nil {
			return serr
		}
		if before, ok := r.ends.spaceAt(pe.Line, pe.Column); ok {
			return fmt.Errorf("%s:%d: column %d: %s", r.name, pe.StartLine, len(rec)+1, spaceAdvice("the name", before, pe))
		}
		return fmt.Errorf("%s:%d: column %d: the header's column name has a quote (\") in it (line %d, column %d): write the name without quotes, or enclose it in double quotes with each quote inside it written twice", r.name, pe.StartLine, len(rec)+1, pe.Line, pe.Column)
	}
	if err != nil {
		return fmt.Errorf("%s: read the header row: %w", r.name, err)
	}
	// Blank lines before the header are skipped: name the header's line.
	line, _ := r.csv.FieldPos(0)
	if len(rec) == 1 && strings.ContainsAny(rec[0], ";\t") {
		// Spreadsheet exports: semicolons or tabs.
		return fmt.Errorf("%s:%d: the header is one column %q: the file is not comma-separated UTF-8 (semicolons or tabs, as spreadsheets often export); save it as \"CSV UTF-8 (comma delimited)\"", r.name, line, rec[0])
	}
	r.header = make([]string, len(rec))
	r.idxMail, r.idxLoc = -1, -1
	seen := map[string]int{} // column name, lower-case and NFC -> its index + 1
	for i, raw := range rec {
		h := strings.TrimSpace(raw)
		if !utf8.ValidString(h) {
			return fmt.Errorf("%s:%d: column %d: the header is not valid UTF-8: save the file as UTF-8", r.name, line, i+1)
		}
		if c, _, ok := firstControl(h); ok {
			if c == 0 {
				return fmt.Errorf("%s:%d: column %d holds NUL bytes: %s", r.name, line, i+1, utf16Advice)
			}
			return fmt.Errorf("%s:%d: column %d (%q) holds the control character U+%04X: remove it from the header row", r.name, line, i+1, h, c)
		}
		if h == "" {
			return fmt.Errorf("%s:%d: column %d has no name: name every column in the header row", r.name, line, i+1)
		}
		key := strings.ToLower(h)
		if known, c, at, ok := hiddenKnown(h); ok {
			return fmt.Errorf("%s:%d: column %d (%q) holds the invisible character U+%04X at byte %d, so it is not the column %s it looks like: remove the character from the header row", r.name, line, i+1, h, c, at, known)
		}
		if first := seen[norm.NFC.String(key)]; first > 0 {
			if prev := strings.TrimSpace(rec[first-1]); !strings.EqualFold(prev, h) {
				return fmt.Errorf("%s:%d: column %d (%q) is column %d (%q) %s: they look the same, and a template reads only one: keep one, or give them distinct names", r.name, line, i+1, h, first, prev, otherSpelling)
			}
			return fmt.Errorf("%s:%d: column %q appears twice: give every column a distinct name", r.name, line, h)
		}
		seen[norm.NFC.String(key)] = i + 1
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
		if serr := r.separatorError(line); serr != nil {
			return serr
		}
		return &HeaderError{File: r.name, Line: line, Missing: missing, Has: r.header}
	}
	r.csv.FieldsPerRecord = len(rec)
	r.headerLine = line
	return nil
}

// separatorError is the error for a header on line that is separated by
// semicolons or tabs (as a database dump or a European spreadsheet
// exports it) rather than commas, which encoding/csv reads as a broken
// quote ("email";"locale") or as columns that are not email and locale
// (email;name, surname;locale); nil if it is not.
func (r *Reader) separatorError(line int) error {
	for _, sep := range []rune{';', '\t'} {
		cr := csv.NewReader(strings.NewReader(r.first))
		cr.Comma = sep
		rec, err := cr.Read()
		if err != nil || len(rec) < 2 {
			continue
		}
		cols := make([]string, len(rec))
		known := false
		for i, c := range rec {
			c = strings.TrimSpace(c)
			cols[i] = strconv.Quote(c)
			known = known || strings.EqualFold(c, "email") || strings.EqualFold(c, "locale")
		}
		if known {
			return fmt.Errorf("%s:%d: the header is separated by %s, not commas (its columns would be %s): save it as \"CSV UTF-8 (comma delimited)\", or export it with commas between the values", r.name, line, separatorName(sep), strings.Join(cols, ", "))
		}
	}
	return nil
}

// separatorHint reports whether rec is Excel's hint of the separator, a
// first line "sep=;" ("sep=," reads as the fields "sep=" and ""), and
// which separator it names.
func separatorHint(rec []string) (rune, bool) {
	rest, ok := strings.CutPrefix(strings.ToLower(strings.Trim(strings.Join(rec, ","), " ")), "sep=")
	if !ok || utf8.RuneCountInString(rest) != 1 {
		return 0, false
	}
	c, _ := utf8.DecodeRuneInString(rest)
	return c, true
}

// separatorName names the separator c in the plural: "semicolons".
func separatorName(c rune) string {
	switch c {
	case ';':
		return "semicolons"
	case '\t':
		return "tabs"
	}
	return fmt.Sprintf("%q characters", c)
}

// firstLine returns the first line of the buffered input that holds more
// than white space (lines ending in LF, CRLF or CR), without its line end.
func firstLine(br *bufio.Reader) string {
	buf, _ := br.Peek(br.Size())
	for len(buf) > 0 {
		end := bytes.IndexAny(buf, "\r\n")
		if end < 0 {
			end = len(buf)
		}
		if text := buf[:end]; len(bytes.TrimSpace(text)) > 0 {
			return string(text)
		}
		buf = buf[min(end+1, len(buf)):]
	}
	return ""
}

// otherSpelling says that two column names (or JSONL keys) differ only in
// how their accents are encoded (and perhaps in case): they are one name
// in NFC.
const otherSpelling = "spelt with other Unicode code points (composed and decomposed accents)"

// headerCell is a value as a column name is read: without spaces around
// it, and without the byte order mark a second export begins with.
func headerCell(v string) string {
	return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), "\ufeff"))
}

// headerAgain checks whether the row rec, read on line, is a header row
// again (two files pasted together, the second with its header and
// perhaps its byte order mark): every value, its spaces, a leading byte
// order mark and its case aside, a column of the header. In the header's
// order it returns the row's error; in another order, the error that ends
// the reading, since every row below would be read in the wrong columns.
func (r *Reader) headerAgain(line int, rec []string) error {
	inOrder := true
	seen := make(map[string]bool, len(rec))
	for i, v := range rec {
		v = strings.ToLower(headerCell(v))
		if !slices.ContainsFunc(r.header, func(h string) bool { return strings.EqualFold(h, v) }) || seen[v] {
			return nil
		}
		seen[v] = true
		inOrder = inOrder && strings.EqualFold(r.header[i], v)
	}
	if inOrder {
		return r.rowErr(line, "", CodeBadRow, fmt.Sprintf("repeats the header row (line %d): two files pasted together? remove this line", r.headerLine))
	}
	quoted := func(cols []string) string {
		q := make([]string, len(cols))
		for i, c := range cols {
			q[i] = strconv.Quote(headerCell(c))
		}
		return strings.Join(q, ", ")
	}
	return fmt.Errorf("%s:%d: this row is a header row again with its columns in another order (%s; line %d has %s): the rows below it would be read in line %d's order, a value under another column's name: two files pasted together? put their columns in one order, or send them as two files; no row from line %d on was read",
		r.name, line, quoted(rec), r.headerLine, quoted(r.header), r.headerLine, line)
}

// hiddenKnown reports whether the column name or JSONL key h (trimmed) is
// one of email, locale, id and name but for an invisible character (a
// zero-width space, a byte order mark, a soft hyphen: see
// csvcell.Invisible), which would make it template data silently: it
// returns that column, the first such character and its byte offset in h.
func hiddenKnown(h string) (string, rune, int, bool) {
	c, at, ok := csvcell.Invisible(h)
	if !ok {
		return "", 0, 0, false
	}
	switch known := strings.ToLower(strings.TrimSpace(csvcell.WithoutInvisible(h))); known {
	case "email", "locale", "id", "name":
		return known, c, at, true
	}
	return "", 0, 0, false
}

// Format returns the format the Reader reads (never FormatAuto).
func (r *Reader) Format() Format { return r.format }

// Columns returns the extra (template data) columns in file order. For JSONL
// it is the union of the keys of the rows read so far, in the order first
// seen, so it is complete only once Next has returned io.EOF.
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

// quoteAdvice says what is wrong with the quotes of field (a column name,
// "" if not known) that pe reports, and how to write such a value.
func quoteAdvice(field string, pe *csv.ParseError) string {
	what := valueOf(field)
	problem := what + " has a quote (\") in it"
	if pe.Err == csv.ErrQuote {
		problem = what + " is quoted, and has a quote (\") inside it that is not doubled"
	}
	return fmt.Sprintf("%s (line %d, column %d): enclose the value in double quotes and write each quote inside it twice, as in \"D\"\"Angelo\"", problem, pe.Line, pe.Column)
}

// spaceAdvice says that what (a value, a column's name) has a space
// before its opening quote (before) or after its closing one, where pe
// reports it, and what to do.
func spaceAdvice(what string, before bool, pe *csv.ParseError) string {
	where, fix := "after its closing quote", "the comma or the line end must come right after the closing quote"
	if before {
		where, fix = "before its opening quote", "a value is quoted only when the quote comes right after the comma"
	}
	return fmt.Sprintf("%s has a space %s (line %d, column %d): remove the space: %s", what, where, pe.Line, pe.Column, fix)
}

// valueOf names the value of column field ("" if not known).
func valueOf(field string) string {
	if field == "" {
		return "a value"
	}
	return fmt.Sprintf("the value of column %q", field)
}

func (r *Reader) nextCSV() (Recipient, error) {
	rec, err := r.csv.Read()
	if tl := r.tooLong(err); tl != nil {
		return Recipient{}, tl
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			rcp := Recipient{Line: pe.StartLine}
			if pe.Err == csv.ErrFieldCount && len(rec) > 0 {
				r.fillCSV(&rcp, rec, true)
				advice := "quote values that contain commas"
				if extra := rec[min(len(r.header), len(rec)):]; len(extra) > 0 && !slices.ContainsFunc(extra, func(v string) bool { return strings.TrimSpace(v) != "" }) {
					fields := "fields"
					if len(extra) == 1 {
						fields = "field"
					}
					advice = fmt.Sprintf("the line ends in %d empty %s (commas after its last value): remove the commas at the end of the line, or %s", len(extra), fields, advice)
				}
				if len(rec) < len(r.header) {
					advice = noValue(r.header[len(rec):]) + ": add the missing values (an empty one is nothing between two commas: a,,b)"
				}
				if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" { // a line of spaces, not a short row
					return rcp, r.rowErr(pe.StartLine, "", CodeBadRow,
						fmt.Sprintf("the row holds only white space, the header has %d fields: remove the line, or write the row's values", len(r.header)))
				}
				fields := "fields"
				if len(rec) == 1 {
					fields = "field"
				}
				return rcp, r.rowErr(pe.StartLine, "", CodeBadRow,
					fmt.Sprintf("the row has %d %s, the header has %d: %s", len(rec), fields, len(r.header), advice))
			}
			qline, qcol, atEnd := r.ends.openAtEnd(pe.Line)
			if pe.Err == csv.ErrQuote && pe.Line > pe.StartLine && atEnd {
				return Recipient{}, fmt.Errorf("%s:%d: a quote opened on this line is not closed (column %d): the file ends inside it, so lines %d to %d were read as one value: close the quote; no row from line %d on was read", r.name, qline, qcol, qline, pe.Line, pe.StartLine)
			}
			if pe.Err == csv.ErrQuote && pe.Line > pe.StartLine {
				// An unclosed quote swallows every following line into one
				// record: reporting one invalid row would lose the rest.
				return Recipient{}, fmt.Errorf("%s:%d: a quote opened on this line is not closed (the file was read up to line %d as one field): close the quote; no row from line %d on was read", r.name, pe.StartLine, pe.Line, pe.StartLine)
			}
			// The fields before the broken one are read: it is the next.
			field := ""
			if len(rec) < len(r.header) {
				field = r.header[len(rec)]
			}
			if len(rec) > 0 {
				r.fillCSV(&rcp, rec, true)
			}
			if pe.Err == csv.ErrQuote && atEnd {
				return rcp, r.rowErr(pe.StartLine, field, CodeBadRow, fmt.Sprintf("%s opens a quote at line %d, column %d that is never closed: the file ends inside it: close the quote at the end of the value", valueOf(field), qline, qcol))
			}
			if before, ok := r.ends.spaceAt(pe.Line, pe.Column); ok {
				return rcp, r.rowErr(pe.StartLine, field, CodeBadRow, spaceAdvice(valueOf(field), before, pe))
			}
			return rcp, r.rowErr(pe.StartLine, field, CodeBadRow, quoteAdvice(field, pe))
		}
		if errors.Is(err, io.EOF) {
			return Recipient{}, io.EOF
		}
		return Recipient{}, fmt.Errorf("read %s: %w", r.name, err)
	}
	line, _ := r.csv.FieldPos(0)
	rcp := Recipient{Line: line}
	if err := r.headerAgain(line, rec); err != nil {
		return rcp, err
	}
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
		if tl := r.tooLong(err); tl != nil {
			return Recipient{}, tl
		}
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

// parseJSONL decodes one line token by token, so that a key given twice is
// seen (a map would keep the last value silently).
func (r *Reader) parseJSONL(line int, data []byte) (Recipient, error) {
	rcp := Recipient{Line: line}
	if at := bytes.IndexByte(data, 0); at >= 0 {
		// Not JSON syntax to fix: UTF-16 text, as NewReader refuses it on
		// the first line.
		return rcp, r.rowErr(line, "", CodeControlCharacter, fmt.Sprintf("the line holds NUL bytes (the first at byte %d): %s", at, utf16Advice))
	}
	if !utf8.Valid(data) {
		return rcp, r.rowErr(line, "", CodeInvalidUTF8, "the line is not valid UTF-8: save the file as UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return rcp, r.rowErr(line, "", CodeBadRow, "not a JSON object: write one object per line, e.g. {\"email\":\"a@example.com\",\"locale\":\"de\"}")
	}
	var (
		hasMail, hasLoc bool
		fields          map[string]string
		extras          []string                     // extra keys in file order
		keys            = make(map[string]string, 8) // key lower-cased, in NFC -> key as written
		halfPair        *RowError                    // the first lone surrogate escape in a value
		k               string                       // the key read last
		at, end         int64                        // where the text of its value begins (at its colon) and ends; end -1 until read
	)
	for dec.More() {
		keyAt := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return rcp, r.jsonSyntax(line, data, k, at, end, err)
		}
		var ok bool
		if k, ok = tok.(string); !ok {
			return rcp, r.jsonSyntax(line, data, "", 0, 0, errors.New("a key is not a string"))
		}
		at, end = dec.InputOffset(), -1
		written := k
		// Spaces around a key are dropped, as around a CSV header's
		// column: " name" is the name.
		k = strings.TrimSpace(k)
		if c, _, bad := firstControl(k); bad {
			return rcp, r.rowErr(line, "", CodeControlCharacter, fmt.Sprintf("the key %q holds the control character U+%04X: remove it", written, c))
		}
		if strings.Contains(k, "\uFFFD") {
			if esc, found := loneSurrogate(data[keyAt:at]); found {
				raw := shown(valueText(bytes.TrimLeft(data[keyAt:at], ", \t")))
				return rcp, r.rowErr(line, "", CodeInvalidUTF8, fmt.Sprintf("the key %s holds the escape %s, %s", raw, esc, halfPairAdvice))
			}
		}
		if k == "" {
			// As a CSV header's column without a name: the template could
			// not name its value.
			return rcp, r.rowErr(line, "", CodeBadRow, fmt.Sprintf("the key %q has no name: name every field, as in {\"email\":\"a@example.com\",\"locale\":\"de\"}", written))
		}
		if known, c, pos, ok := hiddenKnown(k); ok {
			return rcp, r.rowErr(line, known, CodeBadRow, fmt.Sprintf("the key %q holds the invisible character U+%04X at byte %d, so it is not the key %q it looks like: remove the character", k, c, pos, known))
		}
		lk := strings.ToLower(k)
		if first, dup := keys[norm.NFC.String(lk)]; dup {
			field := first
			switch lk {
			case "email", "locale", "id", "name":
				field = lk
			}
			if first == written {
				return rcp, r.rowErr(line, field, CodeBadRow, fmt.Sprintf("the key %q appears twice: keep one", written))
			}
			if !strings.EqualFold(strings.TrimSpace(first), k) {
				return rcp, r.rowErr(line, field, CodeBadRow, fmt.Sprintf("the keys %q and %q are the same field %s: keep one", first, written, otherSpelling))
			}
			return rcp, r.rowErr(line, field, CodeBadRow, fmt.Sprintf("the keys %q and %q are the same field: keep one", first, written))
		}
		keys[norm.NFC.String(lk)] = written
		tok, err = dec.Token()
		if err != nil {
			return rcp, r.jsonSyntax(line, data, k, at, -1, err)
		}
		end = dec.InputOffset()
		var v string
		switch t := tok.(type) {
		case string:
			v = t
			if halfPair == nil && strings.Contains(v, "\uFFFD") {
				if esc, found := loneSurrogate(data[at:end]); found {
					halfPair = r.rowErr(line, fieldName(k), CodeInvalidUTF8, fmt.Sprintf("holds the escape %s, %s", esc, halfPairAdvice))
				}
			}
		case json.Number:
			v = string(t) // the literal text
		case bool:
			v = strconv.FormatBool(t)
		case nil:
		default: // '{' or '['
			return rcp, r.rowErr(line, fieldName(k), CodeBadRow, "the value is an object or array: use a string or a number")
		}
		switch lk {
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
				fields = make(map[string]string, 8)
			}
			fields[k] = v
			extras = append(extras, k)
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		if err == nil {
			err = errors.New("the object does not end with }")
		}
		return rcp, r.jsonSyntax(line, data, k, at, end, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return rcp, r.rowErr(line, "", CodeBadRow, "the line goes on after the object's closing }: write one object per line")
	}
	if halfPair != nil {
		return rcp, halfPair
	}
	for _, k := range []struct{ name, val string }{{"email", rcp.Email}, {"locale", rcp.Locale}, {"id", rcp.ID}, {"name", rcp.Name}} {
		if err := r.checkText(line, k.name, k.val, false); err != nil {
			return rcp, err
		}
	}
	for _, k := range extras {
		if err := r.checkText(line, k, fields[k], true); err != nil {
			return rcp, err
		}
	}
	if !hasMail {
		return rcp, r.rowErr(line, "email", CodeMissingField, "the object has no \"email\": add it")
	}
	if !hasLoc {
		return rcp, r.rowErr(line, "locale", CodeMissingField, "the object has no \"locale\": add it (an empty string is allowed and refused or mapped by the locale policy)")
	}
	for _, k := range extras {
		if _, ok := r.extraSeen[k]; !ok {
			r.extraSeen[k] = len(r.extras)
			r.extras = append(r.extras, k)
		}
	}
	rcp.Fields = fields
	return rcp, r.validate(&rcp)
}

// fieldName is the field a JSONL key names: email, locale, id and name in
// lower case (they are matched without case), any other key as written.
func fieldName(k string) string {
	switch lk := strings.ToLower(k); lk {
	case "email", "locale", "id", "name":
		return lk
	}
	return k
}

// halfPairAdvice ends the message about a lone surrogate escape.
const halfPairAdvice = `half of a UTF-16 surrogate pair, which is not a character (an export cut a character such as an emoji in two, and JSON readers turn it into U+FFFD): write the whole character, or both halves of its escape as in \ud83d\ude00, or remove the escape`

// loneSurrogate finds, in raw (JSON text holding one string, with its
// quotes), the first \u escape of a UTF-16 surrogate that is not half of a
// high-low pair: encoding/json decodes it to U+FFFD without an error.
func loneSurrogate(raw []byte) (string, bool) {
	i := bytes.IndexByte(raw, '"')
	if i < 0 {
		return "", false
	}
	for i++; i < len(raw) && raw[i] != '"'; i++ {
		if raw[i] != '\\' {
			continue
		}
		i++ // the escaped character
		if i >= len(raw) || raw[i] != 'u' {
			continue
		}
		c, ok := hex4(raw[i+1:])
		if !ok {
			continue
		}
		if c >= 0xD800 && c < 0xDC00 { // high: a low one must follow
			if len(raw) > i+6 && raw[i+5] == '\\' && raw[i+6] == 'u' {
				if lo, ok := hex4(raw[i+7:]); ok && lo >= 0xDC00 && lo < 0xE000 {
					i += 10
					continue
				}
			}
			return string(raw[i-1 : i+5]), true
		}
		if c >= 0xDC00 && c < 0xE000 {
			return string(raw[i-1 : i+5]), true
		}
		i += 4
	}
	return "", false
}

// hex4 decodes the four hex digits that b begins with.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var c rune
	for _, h := range b[:4] {
		switch {
		case '0' <= h && h <= '9':
			h -= '0'
		case 'a' <= h && h <= 'f':
			h -= 'a' - 10
		case 'A' <= h && h <= 'F':
			h -= 'A' - 10
		default:
			return 0, false
		}
		c = c<<4 | rune(h)
	}
	return c, true
}

// jsonSyntax words a JSON syntax error met in a JSONL line: in the value of
// key k, whose text begins at data[at:] (the colon before it included), or
// right after it; k is "" when no key was read. end is where the value
// read ends, or -1 when the value itself was broken.
func (r *Reader) jsonSyntax(line int, data []byte, k string, at, end int64, err error) *RowError {
	detail := err.Error()
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		detail = "the line ends"
	}
	if k == "" {
		return r.rowErr(line, "", CodeBadRow, fmt.Sprintf("the line is not valid JSON (%s): write each key in double quotes, as in {\"email\":\"a@example.com\",\"locale\":\"de\"}", detail))
	}
	field := fieldName(k)
	text := valueText(data[at:])
	// A number or literal followed at once by more characters (007, truex,
	// 1.5.3) is read as its first part and fails on the rest: the value is
	// what is wrong, not what comes after it.
	if end >= 0 && int64(len(text)) <= end-at-int64(valueOffset(data[at:])) {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return r.rowErr(line, "", CodeBadRow, "the line ends before the object is closed with }: write each object on one line, closed with }")
		}
		return r.rowErr(line, field, CodeBadRow, fmt.Sprintf("the JSON after this field's value %s is broken (%s): separate the fields with commas, with none after the last, and write each key in double quotes", shown(text), detail))
	}
	switch {
	case len(text) == 0:
		return r.rowErr(line, field, CodeBadRow, fmt.Sprintf("the key has no value (%s): write one after the colon, as in %q:\"\"", detail, k))
	case text[0] == '"':
		return r.rowErr(line, field, CodeBadRow, fmt.Sprintf("the string %s is not valid JSON (%s): end it with a double quote on this line, and inside it write a quote as \\\" and a backslash as \\\\", shown(text), detail))
	}
	return r.rowErr(line, field, CodeBadRow, fmt.Sprintf("the value %s is not valid JSON (%s): write text in double quotes, as in %q:%q", shown(text), detail, k, text))
}

// valueOffset is where a value's text begins in b, after the colon and
// white space that precede it.
func valueOffset(b []byte) int {
	i := 0
	for i < len(b) && (b[i] == ':' || b[i] == ' ' || b[i] == '\t') {
		i++
	}
	return i
}

// valueText is the text of the JSON value that b (from the colon before it)
// holds as written, broken or not: a string through its closing quote,
// anything else up to white space, a comma or a closing bracket; at most
// 40 bytes (and the rest marked).
func valueText(b []byte) string {
	b = b[valueOffset(b):]
	n := 0
	if len(b) > 0 && b[0] == '"' {
		for n = 1; n < len(b) && b[n] != '"'; n++ {
			if b[n] == '\\' {
				n++
			}
		}
		n = min(n+1, len(b))
	} else {
		n = bytes.IndexAny(b, " \t,}]")
		if n < 0 {
			n = len(b)
		}
	}
	const limit = 40
	if n > limit {
		for n = limit; n > 0 && !utf8.RuneStart(b[n]); n-- {
		}
		return string(b[:n]) + "…"
	}
	return string(b[:n])
}

// shown is a value's text as written, quoted if it holds a control
// character.
func shown(text string) string {
	if _, _, bad := firstControl(text); bad {
		return strconv.Quote(text)
	}
	return text
}

// firstControl returns the first control character of s (C0, DEL or C1)
// and its byte offset.
func firstControl(s string) (rune, int, bool) {
	for i, c := range s {
		if c < 0x20 || (c >= 0x7f && c <= 0x9f) {
			return c, i, true
		}
	}
	return 0, 0, false
}

// controlReason says what the control character c at byte at of a value
// is and what to do: a line break or a tab (what a spreadsheet cell
// edited with Alt+Enter, or a pasted text, holds) in words, any other by
// its code point alone.
func controlReason(c rune, at int) string {
	switch c {
	case '\n', '\r':
		return fmt.Sprintf("holds a line break (the control character U+%04X) at byte %d: the value must be on one line (a spreadsheet cell edited with Alt+Enter holds one); remove it", c, at)
	case '\t':
		return fmt.Sprintf("holds a tab (the control character U+%04X) at byte %d: replace it with a space", c, at)
	}
	return fmt.Sprintf("holds the control character U+%04X at byte %d: remove it", c, at)
}

// checkText checks encoding, U+FFFD and control characters of one value.
func (r *Reader) checkText(line int, field, v string, extra bool) error {
	nonASCII := false
	for i := 0; i < len(v); {
		c := v[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				if extra && (c == '\n' || c == '\r' || c == '\t') {
					i++
					continue
				}
				return r.rowErr(line, field, CodeControlCharacter, controlReason(rune(c), i))
			}
			i++
			continue
		}
		ru, size := utf8.DecodeRuneInString(v[i:])
		if ru == utf8.RuneError {
			if size == 1 {
				if err := r.notUTF8(line, field, c); err != nil {
					return err
				}
				return r.rowErr(line, field, CodeInvalidUTF8,
					fmt.Sprintf("is not valid UTF-8 (byte 0x%02X at offset %d): save the file as UTF-8", c, i))
			}
			return r.rowErr(line, field, CodeInvalidUTF8,
				fmt.Sprintf("holds U+FFFD, the replacement character, at byte %d: a conversion before this file lost the character that stood there; write the value again from its source, exported as UTF-8", i))
		}
		if ru >= 0x80 && ru <= 0x9f {
			return r.rowErr(line, field, CodeControlCharacter,
				fmt.Sprintf("holds the control character U+%04X at byte %d: remove it", ru, i))
		}
		r.sawUTF8, nonASCII = true, true
		i += size
	}
	return r.checkMojibake(line, field, v, nonASCII)
}

// notUTF8 returns the error that ends the reading of a CSV file when the
// byte b of line's field is the second value that is not UTF-8 and no
// value before held a UTF-8 character: the file is then in a one-byte
// encoding (a spreadsheet's "CSV (comma delimited)": Latin-1 or
// Windows-1252), and every row with an accented letter would otherwise be
// an invalid row of its own, those without one accepted. It returns nil
// for the first such value (one broken row is that row's problem), and for
// any in a file that held UTF-8 before. A file whose lines end in CR is
// named as Mac Roman, what Excel for Mac saves as "CSV (Macintosh)"
// (converted as Windows-1252, its é would be Ž).
func (r *Reader) notUTF8(line int, field string, b byte) error {
	if r.format != FormatCSV || r.sawUTF8 {
		return nil
	}
	if r.firstNot8 == nil {
		r.firstNot8 = &notUTF8Byte{line: line, field: field, b: b}
		return nil
	}
	f := r.firstNot8
	if r.ends.allCR {
		return fmt.Errorf("%s:%d: %s: %s is not UTF-8, nor is %s of line %d (%s), and no line before holds a UTF-8 character: "+
			"the file's lines end in CR, as Excel for Mac saves \"CSV (Macintosh)\" in Mac Roman, and every row with an accented letter would be refused: "+
			"save it as \"CSV UTF-8 (comma delimited)\", or convert it (iconv -f MACINTOSH -t UTF-8 %s > utf8.csv, then name utf8.csv in the campaign file; "+
			"iconv -f WINDOWS-1252 -t UTF-8 if the Windows-1252 characters are the file's); no row from line %d on was read",
			r.name, line, field, byteAsMacRoman(b), byteAsMacRoman(f.b), f.line, f.field, r.name, line)
	}
	return fmt.Errorf("%s:%d: %s: %s is not UTF-8, nor is %s of line %d (%s), and no line before holds a UTF-8 character: "+
		"the file looks like Latin-1 or Windows-1252, as a spreadsheet saves \"CSV (comma delimited)\", and every row with an accented letter would be refused: "+
		"save it as \"CSV UTF-8 (comma delimited)\", or convert it (iconv -f WINDOWS-1252 -t UTF-8 %s > utf8.csv, then name utf8.csv in the campaign file); no row from line %d on was read",
		r.name, line, field, byteAs1252(b, " in Windows-1252"), byteAs1252(f.b, ""), f.line, f.field, r.name, line)
}

// byteAs1252 names the byte b and, when Windows-1252 reads it as a
// printable character, that character: `byte 0xE9 (é in Windows-1252)`.
func byteAs1252(b byte, in string) string {
	if c := charmap.Windows1252.DecodeByte(b); unicode.IsPrint(c) && c != utf8.RuneError {
		return fmt.Sprintf("byte 0x%02X (%c%s)", b, c, in)
	}
	return fmt.Sprintf("byte 0x%02X", b)
}

// byteAsMacRoman names the byte b as Mac Roman and Windows-1252 read it:
// `byte 0x8E (é in Mac Roman, Ž in Windows-1252)`.
func byteAsMacRoman(b byte) string {
	mac := charmap.Macintosh.DecodeByte(b)
	if w := charmap.Windows1252.DecodeByte(b); unicode.IsPrint(w) && w != utf8.RuneError {
		return fmt.Sprintf("byte 0x%02X (%c in Mac Roman, %c in Windows-1252)", b, mac, w)
	}
	return fmt.Sprintf("byte 0x%02X (%c in Mac Roman)", b, mac)
}

// validate checks a decoded row's address, fills in its normalised form and
// default id, and records its identity and id.
func (r *Reader) validate(rcp *Recipient) error {
	if slices.Contains(NullNames, rcp.Name) {
		rcp.NullName, rcp.Name = rcp.Name, ""
	}
	if err := r.checkShown(rcp); err != nil {
		return err
	}
	if rcp.Email == "" {
		return r.rowErr(rcp.Line, "email", CodeMissingField, "the email is empty: fill it in or remove the row")
	}
	rcp.Email = norm.NFC.String(rcp.Email)
	addr, err := address.Parse(rcp.Email)
	if err != nil {
		return r.rowErr(rcp.Line, "email", CodeInvalidEmail, err.Error())
	}
	key := addr.Key()
	if rcp.ID == "" {
		rcp.ID = key
	}
	hMail := maphash.String(r.seed, key)
	hID := maphash.String(r.seed, rcp.ID)
	if first := r.emails.get(hMail); first != 0 {
		same := ""
		if key != strings.ToLower(rcp.Email) {
			same = fmt.Sprintf(" (the same mailbox as %q)", key)
		}
		return r.rowErr(rcp.Line, "email", CodeDuplicateEmail,
			fmt.Sprintf("duplicate email %q%s, first seen on line %d: keep one row per address", rcp.Email, same, first))
	}
	if first := r.ids.get(hID); first != 0 {
		return r.rowErr(rcp.Line, "id", CodeDuplicateID,
			fmt.Sprintf("duplicate id %q, first seen on line %d: give every recipient a distinct id", rcp.ID, first))
	}
	r.emails.put(hMail, uint32(rcp.Line))
	r.ids.put(hID, uint32(rcp.Line))
	rcp.Address = addr
	return nil
}

// checkShown refuses what would mislead a screen: an id longer than
// MaxIDBytes or holding a character no screen shows, a name longer than
// MaxNameChars, and a name holding a
// direction control (a name reaches the To: header's display name and the
// console; the template's own data is the template's business). The
// reason names the character and where, never the value.
func (r *Reader) checkShown(rcp *Recipient) error {
	if n := len(rcp.ID); n > MaxIDBytes {
		return r.rowErr(rcp.Line, "id", CodeTooLong, fmt.Sprintf(
			"the id is %d bytes, longer than the %d an id may have: shorten it (an id is a key: a number or a short code), or leave the column empty to use the address", n, MaxIDBytes))
	}
	if c, at, ok := csvcell.Invisible(rcp.ID); ok {
		if csvcell.IsDirectionControl(c) {
			return r.rowErr(rcp.Line, "id", CodeInvisibleCharacter, fmt.Sprintf(
				"holds U+%04X (a direction control) at byte %d, which no screen shows but which reorders the text around it: remove it", c, at))
		}
		return r.rowErr(rcp.Line, "id", CodeInvisibleCharacter, fmt.Sprintf(
			"holds U+%04X (an invisible character) at byte %d, which no screen shows, so the id is not the one it looks like: remove it", c, at))
	}
	if n := utf8.RuneCountInString(rcp.Name); n > MaxNameChars {
		return r.rowErr(rcp.Line, "name", CodeTooLong, fmt.Sprintf(
			"the name is %d characters, longer than the %d a name may have (it is the To: header's display name): a value an export ran on, or a note in the name column? write the person's name only", n, MaxNameChars))
	}
	if c, at, ok := csvcell.DirectionControl(rcp.Name); ok {
		return r.rowErr(rcp.Line, "name", CodeDirectionControl, fmt.Sprintf(
			"holds U+%04X (a direction control) at byte %d, which reorders how the name is shown (in the To: header and the console): remove it; right-to-left names need none", c, at))
	}
	return nil
}

// noValue says which columns of a row shorter than its header get no value
// as the row is read (its values may be shifted: it says "as read").
func noValue(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = strconv.Quote(c)
	}
	if len(q) == 1 {
		return "as read, column " + q[0] + " has no value"
	}
	return "as read, columns " + strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1] + " have no value"
}

func (r *Reader) rowErr(line int, field, code, reason string) *RowError {
	return &RowError{File: r.name, Line: line, Field: field, Code: code, Reason: reason}
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

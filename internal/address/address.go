// Package address parses email addresses and gives each mailbox one
// identity, whatever the spelling.
//
// The same mailbox can be written in several ways: "josé@x.test" with the é
// precomposed (NFC) or as e + combining accent (NFD), "user@bücher.test" or
// "user@xn--bcher-kva.test", "user@EXAMPLE.com" or "user@example.com".
// [Parse] normalises an address so that all of them compare equal:
//
//   - the local part (before @) is put in Unicode normalisation form C
//     (golang.org/x/text/unicode/norm);
//   - the domain goes through IDNA with the lookup profile
//     (golang.org/x/net/idna, UTS #46 mapping, which also lower-cases it).
//
// An [Address] then gives the forms callers need: [Address.String] for
// display (Unicode domain), [Address.ASCII] for the SMTP envelope (A-label
// domain), [Address.Key] for identity (what duplicates compare) and
// [Address.NeedsSMTPUTF8] (the local part is not ASCII, so the envelope
// needs the SMTPUTF8 extension).
//
// Only bare addresses are accepted: local@domain, where the local part is a
// dot-atom (RFC 5322 atext, plus any non-ASCII character as RFC 6532
// allows) and the domain a name with at least one dot. Display names, angle
// brackets, comments, quoted local parts and address literals
// ("a@[127.0.0.1]") are refused, as are control characters, whitespace and
// invalid UTF-8 anywhere. So is a character a spreadsheet shows as nothing
// or as a space although it is not one (csvcell.Invisible: a zero-width
// space, a soft hyphen, a byte order mark, a direction or word-joining
// control, a no-break space), in the local part or the domain: the
// address read would not be the one the operator sees, and in the local
// part it would be another mailbox. The one exception is the zero-width
// non-joiner U+200C where it is spelling: after a letter of a joining
// script (Arabic, Syriac, N'Ko, Mongolian, Mandaic) or a combining mark
// (an Indic virama) and before a letter or mark. Lengths are checked on the envelope form: at most
// 64 bytes before @, 63 per domain label, 253 for the domain and 254 in all.
//
// The package imports nothing of tidings but the leaf package csvcell.
package address

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"

	"github.com/tidings-mail/tidings/internal/csvcell"
)

// Limits on the envelope form (RFC 5321 section 4.5.3.1, RFC 1035).
const (
	maxAddress = 254
	maxLocal   = 64
	maxDomain  = 253
	maxLabel   = 63
	// maxInput bounds the work spent on a string before it is refused as
	// too long: IDNA mapping can drop characters (a soft hyphen maps to
	// nothing), so the limit above is checked on the result, and this one
	// keeps hostile input from costing more than a few microseconds.
	maxInput = 4 * maxAddress
)

// Address is a parsed, normalised email address. The zero value is not a
// valid address; [Address.IsZero] reports it.
type Address struct {
	local  string // NFC, case as written
	domain string // U-labels, lower case
	ascii  string // A-labels, lower case
	str    string // local@domain: the input itself when it was normal already
}

// Error says why a string is not an acceptable address.
type Error struct {
	// Input is the string given to Parse.
	Input string
	// Reason says what is wrong and what to do, without the input, e.g.
	// "has a domain that is not a valid IDNA name (...): check for typos".
	Reason string
	// Err is the underlying error, if any (from IDNA processing).
	Err error
}

// Error returns the input, quoted (and shortened when long), followed by
// the reason. It never contains a control character.
func (e *Error) Error() string {
	return fmt.Sprintf("%q %s", clip(e.Input), e.Reason)
}

// Unwrap returns the underlying error, if any.
func (e *Error) Unwrap() error { return e.Err }

// clip shortens s to at most 60 runes for a message.
func clip(s string) string {
	const most = 60
	if utf8.RuneCountInString(s) <= most {
		return s
	}
	n := 0
	for i := range s {
		if n == most {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// specials are ASCII characters no bare address contains.
const specials = " <>\"(),;:[]\\"

// Parse parses and normalises a bare address. Surrounding spaces are not
// trimmed: trim them first if the input allows them. The error is an
// [*Error].
func Parse(s string) (Address, error) {
	fail := func(reason string, args ...any) (Address, error) {
		return Address{}, &Error{Input: s, Reason: fmt.Sprintf(reason, args...)}
	}
	if len(s) > maxInput {
		return fail("is longer than %d bytes: check the column holds one address", maxAddress)
	}
	if r, i, ok := firstBad(s); ok {
		if r == utf8.RuneError {
			return fail("is not valid UTF-8 (byte 0x%02X at offset %d): save the file as UTF-8", s[i], i)
		}
		return fail("holds the control character U+%04X at byte %d: remove it", r, i)
	}
	if r, i, ok := hidden(s); ok {
		return fail("holds the invisible character U+%04X at byte %d, which a spreadsheet does not show, so it is not the address it looks like: remove the character", r, i)
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return fail("is not an email address: write it as local@domain")
	}
	local, domain := s[:at], s[at+1:]
	switch {
	case len(local) >= 2 && local[0] == '"' && local[len(local)-1] == '"':
		return fail("has a quoted local part (\"...\" before @), which is not accepted: ask for a plain address")
	case strings.HasPrefix(domain, "[") && strings.HasSuffix(domain, "]"):
		return fail("has an address literal ([...]) after @, which is not accepted: use a domain name")
	case strings.ContainsAny(s, specials) || strings.ContainsFunc(s, unicode.IsSpace):
		return fail("is not a bare address: write only local@domain, without display name, brackets, quotes or spaces")
	}

	local = norm.NFC.String(local)
	if !IsDotAtom(local) {
		return fail("is not a valid email address: check for typos (dots, @)")
	}
	if len(local) > maxLocal {
		return fail("has a part before @ longer than %d bytes", maxLocal)
	}

	var ascii, uni string
	if isASCII(domain) {
		// The common mistakes, said plainly rather than in IDNA's terms.
		lower := strings.ToLower(domain)
		if reason := checkDomain(lower); reason != "" {
			return fail("%s", reason)
		}
		if isPlainLDH(lower) {
			ascii, uni = lower, lower
		}
	}
	if ascii == "" {
		var err error
		if ascii, err = idna.Lookup.ToASCII(domain); err == nil {
			if reason := checkDomain(ascii); reason != "" {
				return fail("%s", reason)
			}
			uni, err = idna.Lookup.ToUnicode(ascii)
		}
		if err != nil {
			return Address{}, &Error{Input: s, Reason: fmt.Sprintf("has a domain that is not a valid IDNA name (%s): check for typos", err), Err: err}
		}
	}
	if len(local)+1+len(ascii) > maxAddress {
		return fail("is longer than %d bytes (with the domain in ASCII form)", maxAddress)
	}
	str := s
	if local != s[:at] || uni != domain {
		str = local + "@" + uni
	}
	return Address{local: local, domain: uni, ascii: ascii, str: str}, nil
}

// isPlainLDH reports whether a lower-case ASCII domain that passed
// checkDomain is its own IDNA lookup result, in both directions: letters,
// digits, hyphens and dots only, and no label that is or looks like an
// A-label ("xn--..." or another "??--" label, which IDNA refuses). Such
// domains, nearly all of them, skip the IDNA tables.
func isPlainLDH(d string) bool {
	for i := 0; i < len(d); i++ {
		c := d[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	for label := range strings.SplitSeq(d, ".") {
		if len(label) >= 4 && label[2] == '-' && label[3] == '-' {
			return false
		}
	}
	return true
}

// hidden returns the first character of s that csvcell.Invisible finds and
// its byte offset, passing over a zero-width non-joiner that is spelling
// (joiningZWNJ).
func hidden(s string) (rune, int, bool) {
	for off := 0; off < len(s); {
		r, at, ok := csvcell.Invisible(s[off:])
		if !ok {
			return 0, 0, false
		}
		at += off
		if r != '\u200c' || !joiningZWNJ(s, at) {
			return r, at, true
		}
		off = at + utf8.RuneLen(r)
	}
	return 0, 0, false
}

// joiningZWNJ reports whether the zero-width non-joiner at byte at of s
// stands where it is part of a word's spelling (as in Persian), changing
// how the letters around it join: after a letter of a joining script or a
// combining mark (an Indic virama), and before a letter or a mark.
func joiningZWNJ(s string, at int) bool {
	before, _ := utf8.DecodeLastRuneInString(s[:at])
	after, _ := utf8.DecodeRuneInString(s[at+utf8.RuneLen('\u200c'):])
	joining := unicode.In(before, unicode.Arabic, unicode.Syriac, unicode.Nko, unicode.Mongolian, unicode.Mandaic) && unicode.IsLetter(before)
	return (joining || unicode.Is(unicode.Mn, before)) &&
		after >= utf8.RuneSelf && (unicode.IsLetter(after) || unicode.Is(unicode.Mn, after))
}

// firstBad returns the first control character (C0, DEL, C1) or invalid
// UTF-8 byte (as utf8.RuneError) of s and its byte offset.
func firstBad(s string) (rune, int, bool) {
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return r, i, true
			}
		case r < 0x20, r >= 0x7f && r <= 0x9f:
			return r, i, true
		}
	}
	return 0, 0, false
}

// IsDotAtom reports whether s is an RFC 5322 dot-atom whose atext may also
// hold any non-ASCII character (RFC 6532): a local part that needs no
// quotes.
func IsDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= utf8.RuneSelf, c == '.':
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// checkDomain checks the A-label form of a domain; it returns "" or the
// reason it is not usable after @.
func checkDomain(ascii string) string {
	if ascii == "" || !strings.Contains(ascii, ".") {
		return "has no valid domain (like example.com) after @: check for typos"
	}
	if strings.HasSuffix(ascii, ".") {
		return "has a domain ending with a dot: remove the final dot"
	}
	if strings.HasPrefix(ascii, ".") || strings.Contains(ascii, "..") {
		return "has an empty label in its domain (two dots in a row, or a dot first): check for typos"
	}
	if len(ascii) > maxDomain {
		return fmt.Sprintf("has a domain longer than %d bytes (in ASCII form)", maxDomain)
	}
	for label := range strings.SplitSeq(ascii, ".") {
		if len(label) > maxLabel {
			return fmt.Sprintf("has a domain label longer than %d bytes (in ASCII form)", maxLabel)
		}
		if strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return "has a domain label starting or ending with '-': check for typos"
		}
	}
	return ""
}

// IsZero reports whether a is the zero Address (not the result of Parse).
func (a Address) IsZero() bool { return a.local == "" }

// Local returns the part before @, NFC-normalised, its case as written.
func (a Address) Local() string { return a.local }

// Domain returns the domain in Unicode form (U-labels), lower case, e.g.
// "bücher.test" for "user@XN--BCHER-KVA.test".
func (a Address) Domain() string { return a.domain }

// ASCIIDomain returns the domain in ASCII form (A-labels), lower case, e.g.
// "xn--bcher-kva.test" for "user@Bücher.test": what DNS and an SMTP server
// without SMTPUTF8 understand.
func (a Address) ASCIIDomain() string { return a.ascii }

// String returns the address for display: local part as written (NFC) and
// the Unicode domain.
func (a Address) String() string { return a.str }

// ASCII returns the address for the SMTP envelope: local part (NFC) and the
// A-label domain. When [Address.NeedsSMTPUTF8] is true the local part is
// still not ASCII, and the server must offer SMTPUTF8.
func (a Address) ASCII() string {
	if a.ascii == a.domain {
		return a.str
	}
	return a.local + "@" + a.ascii
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// NeedsSMTPUTF8 reports whether the local part holds non-ASCII characters,
// so that the address can be used in an SMTP envelope only with the
// SMTPUTF8 extension (RFC 6531). The domain never needs it: use
// [Address.ASCII].
func (a Address) NeedsSMTPUTF8() bool { return !isASCII(a.local) }

// Key returns the identity of the mailbox: two addresses are the same
// recipient exactly when their keys are equal. It is the local part
// NFC-normalised and lower-cased (local parts are compared without case,
// as nearly every mail system does), "@", and the Unicode domain, lower
// case. For example "José@XN--BCHER-KVA.test" and "josé@bücher.test" (in
// NFC or NFD) both have the key "josé@bücher.test".
func (a Address) Key() string {
	local := norm.NFC.String(strings.ToLower(a.local))
	if local == a.local {
		return a.str
	}
	return local + "@" + a.domain
}

// KeyOf returns the Key of the address s, or s lower-cased when it is not
// one (a journal line or report row written from a row that was): what
// matches a mailbox across stagings, journals and reports.
func KeyOf(s string) string {
	if a, err := Parse(s); err == nil {
		return a.Key()
	}
	return strings.ToLower(s)
}

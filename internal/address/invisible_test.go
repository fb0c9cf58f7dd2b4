package address

import (
	"strings"
	"testing"
)

// TestInvisibleCharacterIsRefused: an address holding a character a
// spreadsheet shows as nothing (a zero-width space, a soft hyphen, a byte
// order mark, a direction control, a word joiner), before or after @, is
// not the address the operator sees; in the local part it would be another
// mailbox than the same address without it. Parse refuses it, naming the
// character and its byte and saying to remove it. A zero-width non-joiner
// where it is spelling (between Persian letters) is kept; elsewhere it is
// refused like the others.
func TestInvisibleCharacterIsRefused(t *testing.T) {
	t.Parallel()
	const todo = ", which a spreadsheet does not show, so it is not the address it looks like: remove the character"
	for _, tc := range []struct {
		name, in, want string // want: "" when valid
	}{
		{"zero-width space in local part", "ada\u200b@example.org", `"ada\u200b@example.org" holds the invisible character U+200B at byte 3` + todo},
		{"soft hyphen in local part", "a\u00adda@example.org", `"a\u00adda@example.org" holds the invisible character U+00AD at byte 1` + todo},
		{"byte order mark first", "\ufeffada@example.org", `"\ufeffada@example.org" holds the invisible character U+FEFF at byte 0` + todo},
		{"right-to-left override", "ada\u202e@example.org", `"ada\u202e@example.org" holds the invisible character U+202E at byte 3` + todo},
		{"word joiner", "a\u2060da@example.org", `"a\u2060da@example.org" holds the invisible character U+2060 at byte 1` + todo},
		{"left-to-right mark", "ada\u200e@example.org", `"ada\u200e@example.org" holds the invisible character U+200E at byte 3` + todo},
		{"zero-width space in domain", "ada@exam\u200bple.org", `"ada@exam\u200bple.org" holds the invisible character U+200B at byte 8` + todo},
		{"soft hyphen in domain", "ada@exam\u00adple.org", `"ada@exam\u00adple.org" holds the invisible character U+00AD at byte 8` + todo},
		{"word joiner in domain", "ada@example\u2060.org", `"ada@example\u2060.org" holds the invisible character U+2060 at byte 11` + todo},
		{"byte order mark in a Unicode domain", "ada@b\u00fc\ufeffcher.test", `"ada@bü\ufeffcher.test" holds the invisible character U+FEFF at byte 7` + todo},
		{"zero-width non-joiner in a Latin local part", "ada\u200c@example.org", `"ada\u200c@example.org" holds the invisible character U+200C at byte 3` + todo},
		{"zero-width non-joiner between Latin letters", "a\u200cda@example.org", `"a\u200cda@example.org" holds the invisible character U+200C at byte 1` + todo},
		{"zero-width non-joiner after a Persian word", "\u0645\u06cc\u200c@example.org", "\"\u0645\u06cc\\u200c@example.org\" holds the invisible character U+200C at byte 4" + todo},
		{"second character after a Persian zero-width non-joiner", "\u0645\u06cc\u200c\u062e\u200b@example.org", "\"\u0645\u06cc\\u200c\u062e\\u200b@example.org\" holds the invisible character U+200B at byte 9" + todo},
		{"Persian zero-width non-joiner in the local part", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645@example.org", ""},
		{"Persian zero-width non-joiner in the domain", "a@\u0645\u06cc\u200c\u062e.test", ""},
		{"Devanagari zero-width non-joiner after a virama", "\u0915\u094d\u200c\u0937@example.org", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, err := Parse(tc.in)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Parse(%q): %v", tc.in, err)
				}
				if a.Local()+"@"+a.Domain() != tc.in {
					t.Errorf("Parse(%q) = %q, want it unchanged", tc.in, a.String())
				}
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Fatalf("Parse(%q) = %q, %v\nwant error %s", tc.in, a.String(), err, tc.want)
			}
			// Not a mailbox of its own: what matches it is the string as
			// written, never the address without the character.
			if bare := strings.NewReplacer("\u200b", "", "\u00ad", "", "\ufeff", "", "\u202e", "", "\u2060", "", "\u200e", "", "\u200c", "").Replace(tc.in); KeyOf(tc.in) == KeyOf(bare) {
				t.Errorf("KeyOf(%q) = KeyOf(%q) = %q", tc.in, bare, KeyOf(bare))
			}
		})
	}
}

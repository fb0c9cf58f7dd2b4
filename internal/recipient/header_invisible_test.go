package recipient

import (
	"strings"
	"testing"
)

// TestHeaderErrorShowsInvisibleCharacters: a header error quotes the
// column names, so that a control or invisible character shows as an
// escape, and names the first invisible character the header's columns
// hold and where; a required column that is one but for such a character
// is refused as that (found by a red team: "the header lacks the column(s)
// email (it has email, locale)", with a raw U+FEFF before the second
// email).
func TestHeaderErrorShowsInvisibleCharacters(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, input, want string }{
		{"second BOM", "\xef\xbb\xbf\xef\xbb\xbfemail,locale\na@x.test,de\n",
			`r.csv:1: column 1 ("\ufeffemail") holds the invisible character U+FEFF at byte 0, so it is not the column email it looks like: remove the character from the header row`},
		{"zero-width space", "email\u200b,locale\na@x.test,de\n",
			`r.csv:1: column 1 ("email\u200b") holds the invisible character U+200B at byte 5, so it is not the column email it looks like: remove the character from the header row`},
		{"word joiner in locale", "email,\u2060locale\na@x.test,de\n",
			`r.csv:1: column 2 ("\u2060locale") holds the invisible character U+2060 at byte 0, so it is not the column locale it looks like: remove the character from the header row`},
		{"lacks email, another column hides a character", "mail\u200b,locale,Ville\u00a0x\na@x.test,de,P\n",
			`r.csv:1: the header lacks the column(s) email (it has "mail\u200b", "locale", "Ville\u00a0x"; column 1 holds the invisible character U+200B at byte 4): add them to the header row; columns email and locale are required`},
		{"lacks both, plain names", "mail,lang\n",
			`r.csv:1: the header lacks the column(s) email, locale (it has "mail", "lang"): rename column 1 ("mail") to email and column 2 ("lang") to locale, if that is what they hold, else add them to the header row; columns email and locale are required`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewReader(strings.NewReader(tc.input), ReaderConfig{Name: "r.csv"})
			if err == nil || err.Error() != tc.want {
				t.Errorf("\n got %v\nwant %s", err, tc.want)
			}
		})
	}
}

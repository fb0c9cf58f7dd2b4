package recipient

import (
	"strings"
	"testing"
)

// TestHeaderErrorNamesTheColumnToRename (red team 30) holds the header
// error to STYLE.md: a message says what is wrong, where, and what to do.
//
// What happened before the fix: a migration export whose columns are
// "E-mail" and "Language" was told `the header lacks the column(s) email,
// locale (it has "E-mail", "Language", ...): add them to the header row`,
// and an operator who follows it adds two empty columns. Now a column
// whose name is a usual spelling of email or locale (case, spaces, "-" and
// "_" aside: E-mail, Mail, Email Address, Language, lang_code, Preferred
// Language) is named as the one to rename, if that is what it holds.
func TestHeaderErrorNamesTheColumnToRename(t *testing.T) {
	t.Parallel()
	const required = "; columns email and locale are required"
	for _, tc := range []struct{ name, header, want string }{
		{"both", "E-mail,Language,Name,posts",
			`r.csv:1: the header lacks the column(s) email, locale (it has "E-mail", "Language", "name", "posts"): rename column 1 ("E-mail") to email and column 2 ("Language") to locale, if that is what they hold, else add them to the header row` + required},
		{"locale only", "email,Preferred Language",
			`r.csv:1: the header lacks the column(s) locale (it has "email", "Preferred Language"): rename column 2 ("Preferred Language") to locale, if that is what it holds, else add them to the header row` + required},
		{"email only, first of two spellings", " Email Address ,locale,mail",
			`r.csv:1: the header lacks the column(s) email (it has "Email Address", "locale", "mail"): rename column 1 ("Email Address") to email, if that is what it holds, else add them to the header row` + required},
		{"one of two has a spelling", "customer,lang_code",
			`r.csv:1: the header lacks the column(s) email, locale (it has "customer", "lang_code"): rename column 2 ("lang_code") to locale, if that is what it holds, else add them to the header row` + required},
		{"no spelling known", "contact,country",
			`r.csv:1: the header lacks the column(s) email, locale (it has "contact", "country"): add them to the header row` + required},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewReader(strings.NewReader(tc.header+"\nx,y\n"), ReaderConfig{Name: "r.csv"})
			if err == nil || err.Error() != tc.want {
				t.Errorf("\n got %v\nwant %s", err, tc.want)
			}
		})
	}
}

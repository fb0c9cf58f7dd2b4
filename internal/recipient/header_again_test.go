package recipient

import (
	"strings"
	"testing"
)

// TestHeaderRowAgainInTheFile (red team 30) holds the reader to README.md
// (plan: "the first refused/invalid rows as file:line: field: reason", and
// Recipients file: "two exports pasted together") and to STYLE.md: a
// message says what is wrong, where, and what to do.
//
// What happened before the fix: a file made of two exports pasted
// together (cat a.csv b.csv, the second with its byte order mark) holds the
// header row again in the middle. plan said `r.csv:4: email: "Email" is not
// an email address: write it as local@domain`, which is true and points
// nowhere. Worse, when the second export had its columns in another order,
// every row below it was read in the first header's order: a name read as
// posts, a count as a name, accepted and sent so. Now a row that repeats
// the header is an invalid row that says so; a row holding the header's
// columns in another order ends the reading, naming both orders.
func TestHeaderRowAgainInTheFile(t *testing.T) {
	t.Parallel()
	const head = "\ufeffLocale,Email,Name,posts\r\nde,a@x.test,Jürg,1\r\n"
	for _, tc := range []struct {
		name, input string
		rows        []string // per row read: "" accepted, else its reason
		fatal       string   // part of the error that ends the reading; "" for none
	}{
		{"the same header again, with its BOM",
			head + "\ufeffLocale,Email,Name,posts\r\nfr,b@x.test,Zoë,2\r\n",
			[]string{"", "repeats the header row (line 1): two files pasted together? remove this line", ""}, ""},
		{"the same header again, other case and spaces",
			head + "LOCALE, email ,name,Posts\r\nfr,b@x.test,Zoë,2\r\n",
			[]string{"", "repeats the header row (line 1): two files pasted together? remove this line", ""}, ""},
		{"the header in another order",
			head + "\ufeffEmail,Locale,posts,Name\r\nb@x.test,fr,2,Zoë\r\n",
			[]string{""},
			`r.csv:3: this row is a header row again with its columns in another order ("Email", "Locale", "posts", "Name"; line 1 has "locale", "email", "name", "posts"): the rows below it would be read in line 1's order, a value under another column's name: two files pasted together? put their columns in one order, or send them as two files; no row from line 3 on was read`},
		{"a recipient whose values look like columns is a recipient",
			"email,locale,name\nname@x.test,en,email\n",
			[]string{""}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			read, fatal := readRows(t, tc.input)
			var got []string
			for _, r := range read {
				reason := ""
				if r.err != nil {
					reason = r.err.Reason
				}
				got = append(got, reason)
			}
			if strings.Join(got, "|") != strings.Join(tc.rows, "|") {
				t.Errorf("rows:\n got %q\nwant %q", got, tc.rows)
			}
			switch {
			case tc.fatal == "" && fatal != nil:
				t.Errorf("the file was refused: %v", fatal)
			case tc.fatal != "" && (fatal == nil || !strings.Contains(fatal.Error(), tc.fatal)):
				t.Errorf("error %v\nwant %q", fatal, tc.fatal)
			}
		})
	}
}

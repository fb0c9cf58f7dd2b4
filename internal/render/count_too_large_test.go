package render

import (
	"testing"
	"testing/fstest"
)

// TestTooLargeCountSaysSo: a count in the recipients file that is a whole
// number too large for tidings to read (beyond 9223372036854775807) makes
// the row invalid, as it did; but the reason said it "is not a whole
// number or a decimal such as 1.5", which is false, and sent the operator
// looking for a typo in a value that has none. Found by red team 39. It
// now says the count is too large, and the largest count there is.
func TestTooLargeCountSaysSo(t *testing.T) {
	t.Parallel()
	tm := fstest.MapFS{
		"x/subject.tmpl": {Data: []byte(`{{t "s" .}}`)},
		"x/text.tmpl":    {Data: []byte(`{{tc "posts" .Fields.posts .}}`)},
		"x/html.tmpl":    {Data: []byte(`<p>{{tc "posts" .Fields.posts .}}</p>`)},
	}
	loc := fstest.MapFS{"en.toml": {Data: []byte("[s]\nother = \"Subject\"\n[posts]\none = \"{{.Count}} post\"\nother = \"{{.Count}} posts\"\n")}}
	e, err := New(Config{Templates: tm, Locales: loc, Template: "x", DefaultLocale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.Resolve("en")
	if err != nil {
		t.Fatal(err)
	}
	const tail = ` (the count of message posts): fix the value in column "posts" of the recipients file`
	tests := []struct{ count, want string }{
		{"99999999999999999999", `count "99999999999999999999" is too large: the largest count is 9223372036854775807`},
		{"9223372036854775808.5", `count "9223372036854775808.5" is too large: the largest count is 9223372036854775807`},
		{"-99999999999999999999", `count "-99999999999999999999" is below 0: a count is 0 or more`},
		{"9223372036854775807", ""},
		{"1e30", `count "1e30" is not a whole number or a decimal such as 1.5`},
	}
	for _, tt := range tests {
		t.Run(tt.count, func(t *testing.T) {
			t.Parallel()
			r, err := e.Render(m, Data{ID: "1", Email: "a@x.example", Fields: map[string]string{"posts": tt.count}})
			if tt.want == "" {
				if err != nil || r.Text != tt.count+" posts" {
					t.Fatalf("text %q, error %v; want %q", r.Text, err, tt.count+" posts")
				}
				return
			}
			want := "templates/x/html.tmpl:1: en: .Fields.posts: " + tt.want + tail
			if err == nil || err.Error() != want {
				t.Errorf("error\n %v\nwant\n %s", err, want)
			}
		})
	}
}

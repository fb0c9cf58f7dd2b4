package plan

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tidings-mail/tidings/internal/golden"
	"github.com/tidings-mail/tidings/internal/recipient"
	"github.com/tidings-mail/tidings/internal/render"
)

// headerEngine is a template whose text uses the column posts and whose
// message hello (in every file) the column nick.
func headerEngine(t *testing.T) *render.Engine {
	t.Helper()
	tmpl := fstest.MapFS{
		"m/subject.tmpl": {Data: []byte(`{{t "subject" .}}`)},
		"m/text.tmpl":    {Data: []byte("{{t \"hello\" .}}\n{{.Fields.posts}}")},
		"m/html.tmpl":    {Data: []byte(`<p>{{t "hello" .}}</p>`)},
	}
	loc := fstest.MapFS{
		"en.toml": {Data: []byte("[subject]\nother = \"News\"\n[hello]\nother = \"Hello {{.Fields.nick}}\"\n")},
		"de.toml": {Data: []byte("[subject]\nother = \"Neuigkeiten\"\n[hello]\nother = \"Hallo {{.Fields.nick}}\"\n")},
	}
	e, err := render.New(render.Config{Templates: tmpl, Locales: loc, Template: "m", DefaultLocale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestMissingColumnIsOneHeaderProblem: a column the template uses that the
// header of a CSV file lacks is reported once, for the header (file, line
// 1, the column, where the template uses it, what to do), not once per
// row; every row that needs it is still invalid, counted and in the
// rejects file, with a reason that points at the header. A JSONL file has
// no header: a row without the key is that row's problem. A column in
// another case ("Posts" for posts) is named in plan's line for the header,
// with the rename to make (red team 38: only the rejects file said it, and
// the plan told the operator to add a column the header seemed to hold).
// What plan prints and writes is in testdata/missing-column.golden.
func TestMissingColumnIsOneHeaderProblem(t *testing.T) {
	t.Parallel()
	e := headerEngine(t)
	tests := []struct {
		name, file, rows string
		missing          []string // the columns reported for the header
		invalid          int
	}{
		{"a column the template uses", "r.csv",
			"email,locale,nick\na@example.com,en,Ana\nb@example.com,de,Bo\nc@example.com,xx,Cy\nnot-an-email,en,Di\n",
			[]string{"posts"}, 3},
		{"a column a catalog message uses", "r.csv",
			"email,locale,posts\na@example.com,en,1\nb@example.com,de,2\n",
			[]string{"nick"}, 2},
		{"two columns: both are reported, not the first alone", "r.csv",
			"email,locale\na@example.com,en\nb@example.com,de\n",
			[]string{"nick", "posts"}, 2},
		{"a column in another case", "r.csv",
			"email,locale,nick,Posts\na@example.com,en,Ana,3\n",
			[]string{"posts"}, 1},
		{"a key a JSONL row lacks", "r.jsonl",
			`{"email":"a@example.com","locale":"en","nick":"Ana","posts":"3"}` + "\n" + `{"email":"b@example.com","locale":"de","nick":"Bo"}` + "\n",
			nil, 1},
	}
	var out []string
	for _, tt := range tests {
		in := Input{Campaign: testCampaign(t, ""), Engine: e, RecipientsName: tt.file, Recipients: strings.NewReader(tt.rows)}
		s, err := Run(context.Background(), in, nil)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var cols []string
		rows := 0
		for _, mc := range s.MissingColumns {
			cols, rows = append(cols, mc.Column), rows+mc.Rows
		}
		if strings.Join(cols, ",") != strings.Join(tt.missing, ",") || s.Invalid != tt.invalid {
			t.Errorf("%s: missing columns %v, invalid %d; want %v, %d", tt.name, cols, s.Invalid, tt.missing, tt.invalid)
		}
		// Every row is accounted for, once.
		if s.Rows != s.Accepted+s.Refused+s.Invalid+s.Skipped || len(s.Rejects) != s.Refused+s.Invalid+s.Skipped {
			t.Errorf("%s: rows %d = %d accepted + %d refused + %d invalid + %d skipped; %d rejects", tt.name, s.Rows, s.Accepted, s.Refused, s.Invalid, s.Skipped, len(s.Rejects))
		}
		// A row that lacks two columns counts for each.
		header := 0
		for _, r := range s.Rejects {
			if r.Code == CodeRender && r.Field != "" {
				header += len(s.lacking[r.Line])
			}
		}
		if header != rows {
			t.Errorf("%s: %d rejects for a column the header lacks, the header counts %d", tt.name, header, rows)
		}
		// Staging's second run over the same bytes agrees.
		in.Recipients, in.Prior = strings.NewReader(tt.rows), s
		again, err := Run(context.Background(), in, nil)
		if err != nil || again.Invalid != s.Invalid || len(again.MissingColumns) != len(s.MissingColumns) ||
			(len(s.MissingColumns) > 0 && again.MissingColumns[0] != s.MissingColumns[0]) ||
			!slices.Equal(again.MissingColumns, s.MissingColumns) || !slices.Equal(again.Rejects, s.Rejects) {
			t.Errorf("%s: the run with Prior = %+v, %v; want the first's %+v", tt.name, again, err, s)
		}
		var text, csv bytes.Buffer
		if err := s.WriteText(&text, 20); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteRejectsCSV(&csv); err != nil {
			t.Fatal(err)
		}
		out = append(out, "# "+tt.name+"\n"+text.String()+"--- rejects\n"+csv.String())
	}
	golden.Check(t, filepath.Join("testdata", "missing-column.golden"), strings.Join(out, "\n"))
}

// TestHeaderErrorNamesEveryColumn: a CSV header without the required
// columns is refused in one error that also names every column the
// template uses that the header lacks, with where it is used, so that one
// fix of the header is enough; without such columns the error is the
// required columns' alone.
func TestHeaderErrorNamesEveryColumn(t *testing.T) {
	t.Parallel()
	e := headerEngine(t)
	tests := []struct {
		name, header string
		want         string // the whole error
		template     []string
	}{
		{"email, locale and both template columns", "mail,lang\n",
			`read recipients: r.csv:1: the header lacks the column(s) email, locale (it has "mail", "lang"): rename column 1 ("mail") to email and column 2 ("lang") to locale, if that is what they hold, else add them to the header row; columns email and locale are required; ` +
				`the template also uses "nick" (used at templates/m/html.tmpl:1 (message hello)), "posts" (used at templates/m/text.tmpl:2), which the header lacks too: add them as well, with a value in every row`,
			[]string{"nick", "posts"}},
		{"locale and one template column", "email,nick\n",
			`read recipients: r.csv:1: the header lacks the column(s) locale (it has "email", "nick"): add them to the header row; columns email and locale are required; ` +
				`the template also uses "posts" (used at templates/m/text.tmpl:2), which the header lacks too: add it as well, with a value in every row`,
			[]string{"posts"}},
		{"email alone", "locale,nick,posts\n",
			`read recipients: r.csv:1: the header lacks the column(s) email (it has "locale", "nick", "posts"): add them to the header row; columns email and locale are required`,
			nil},
	}
	for _, tt := range tests {
		_, err := Run(context.Background(), Input{Campaign: testCampaign(t, ""), Engine: e, RecipientsName: "r.csv", Recipients: strings.NewReader(tt.header + "a@example.com,en,x\n")}, nil)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: error\n%v\nwant\n%s", tt.name, err, tt.want)
			continue
		}
		var he *HeaderError
		if got := errors.As(err, &he); got != (tt.template != nil) || (got && !slices.Equal(he.Columns, tt.template)) {
			t.Errorf("%s: HeaderError %+v, want the template's columns %v", tt.name, he, tt.template)
		}
		var re *recipient.HeaderError
		if !errors.As(err, &re) {
			t.Errorf("%s: %v does not wrap the required columns' *recipient.HeaderError", tt.name, err)
		}
	}
}

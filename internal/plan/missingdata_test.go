package plan

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tidings-mail/tidings/internal/render"
)

// TestMissingDataBlamesTheCampaignFile (fx43f): a template that reads a
// campaign data key the campaign file lacks ({{.Data.promo}}) fails for
// every row alike. Each row was invalid with "the template cannot be
// rendered with this row", which preview and test-send show as
// "recipients.csv:2: ...": the operator was sent to a row, where the fix
// is the campaign file's data: (or the template). The reason now says no
// row can be rendered and names the campaign file, the template's line
// and the key; a row's own fault (a count below 0) still says "with this
// row".
func TestMissingDataBlamesTheCampaignFile(t *testing.T) {
	t.Parallel()
	tmpl := fstest.MapFS{
		"m/subject.tmpl": {Data: []byte(`{{t "subject" .}}`)},
		"m/text.tmpl":    {Data: []byte("{{t \"hello\" .}}\n{{.Data.promo}}")},
		"m/html.tmpl":    {Data: []byte(`<p>{{t "hello" .}}</p>`)},
	}
	loc := fstest.MapFS{"en.toml": {Data: []byte("[subject]\nother = \"News\"\n[hello]\nother = \"Hello\"\n")}}
	e, err := render.New(render.Config{Templates: tmpl, Locales: loc, Template: "m", DefaultLocale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	in := Input{Campaign: testCampaign(t, ""), Engine: e, RecipientsName: "r.csv",
		Recipients: strings.NewReader("email,locale\na@example.com,en\nb@example.com,en\n")}
	s, err := Run(context.Background(), in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Invalid != 2 || len(s.Rejects) != 2 {
		t.Fatalf("%d invalid, rejects %+v; want both rows invalid", s.Invalid, s.Rejects)
	}
	for _, r := range s.Rejects {
		for _, part := range []string{"no row can be rendered", "m/text.tmpl:2", ".Data.promo", "add it under data: in the campaign file (c.yaml)"} {
			if !strings.Contains(r.Reason, part) {
				t.Errorf("line %d: the reason %q lacks %q", r.Line, r.Reason, part)
			}
		}
		if strings.Contains(r.Reason, "with this row") {
			t.Errorf("line %d: the reason blames the row: %q", r.Line, r.Reason)
		}
	}
}

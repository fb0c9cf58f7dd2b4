package console_test

import (
	"html"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/preview"
)

// TestSampleDataCardGivesTrueAdvice: a campaign whose recipients are all
// English. The German card has no recipient to show, so it renders sample
// data; when that cannot render the message it says "nothing to show",
// and what it says about it must be true: what the sample data lacks,
// where the template needs it, and that nobody German is sent anything,
// so nothing needs fixing.
//
// Was: the card repeated the render error meant for a recipient, "this
// recipient has no column "plan": add it to the recipients file, with a
// value for every recipient", though the recipients file has it (every
// row has plan) and there is no such recipient; for a sample count that
// is not a number, "fix the value in column "posts" of the recipients
// file", whose values are right. QA was sent to fix a file that is right.
func TestSampleDataCardGivesTrueAdvice(t *testing.T) {
	t.Parallel()
	wrong := []string{"add it to the recipients file", "this recipient has no column", "with a value for every recipient", "of the recipients file"}
	for _, tc := range []struct {
		name  string
		plan  bool   // the template prints column plan, which every row has
		posts string // the sample data's posts
		want  []string
	}{
		{"noplan", true, "2", []string{`the sample data has no column "plan"`, "templates/welcome/text.tmpl:", "the sample's columns: posts"}},
		{"badcount", false, "many", []string{`the sample data's column "posts" holds "many"`, "not the count welcome.posts"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := consoletest.New(t, nil)
			spec := consoletest.Spec{Name: tc.name, N: 3, Locales: []string{"en"}}
			if tc.plan {
				stageWithPlanColumn(t, w, spec)
			} else {
				w.Stage(t, spec)
			}
			s := newSiteWith(t, w, func(c *console.Config) {
				c.Samples = map[string]preview.Sample{"": {Name: "Sample Person", Email: "sample@example.org", Fields: map[string]string{"posts": tc.posts}}}
			})
			_, body, _ := s.signIn(t, viewerToken).get("/c/" + tc.name + "/gallery")
			i := strings.Index(body, `data-lang="de"`)
			if i < 0 {
				t.Fatalf("the gallery has no German card:\n%s", body)
			}
			de := body[i:]
			de = html.UnescapeString(de[:strings.Index(de, "</section>")])
			for _, want := range append(tc.want, "nothing to show", "nobody is sent this language's message") {
				if !strings.Contains(de, want) {
					t.Errorf("the German card does not say %q:\n%s", want, de)
				}
			}
			for _, w := range wrong {
				if strings.Contains(de, w) {
					t.Errorf("the German card says %q, which is not true (the recipients file is right; there is no German recipient):\n%s", w, de)
				}
			}
		})
	}
}

package console_test

import (
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestReportOfACampaignBeingStaged: the recipients page and its CSV
// download (the console's report) of a campaign whose first staging runs
// say what `tidings report` says (internal/cli's
// TestReportOfACampaignBeingStaged): who stages it and since when, that it
// has no report until that staging ends, and to come back once its send
// ends, as a conflict (409: asked too early, nothing failed), with no
// rows. They said the second send's refusal ("one send stages a campaign
// at a time, and only a pause acts on it"), which is no answer to someone
// who asked for the recipients.
func TestReportOfACampaignBeingStaged(t *testing.T) {
	t.Parallel()
	_, v := beingStaged(t)
	for _, tt := range []struct{ name, path string }{
		{"the recipients page", "/c/writing/recipients"},
		{"its CSV download", "/c/writing/recipients?format=csv"},
		{"the CSV of some outcomes", "/c/writing/recipients?format=csv&outcome=failed"},
	} {
		code, body, _ := v.get(tt.path)
		body = html.UnescapeString(body)
		for _, want := range []string{`Campaign "writing" is being staged by erin@ci since `, "it has no report until that staging ends (its recipients are being written)", "once its send ends"} {
			if code != http.StatusConflict || !strings.Contains(body, want) {
				t.Errorf("%s of a campaign being staged: %d; want 409 saying %q\n%s", tt.name, code, want, body)
			}
		}
		if strings.Contains(body, "one send stages a campaign at a time") || strings.Contains(body, "@example") {
			t.Errorf("%s of a campaign being staged: the second send's refusal, or rows\n%s", tt.name, body)
		}
	}
}

// beingStaged is a console whose campaign "writing" is in its first
// staging, begun by erin@ci, and a viewer signed in to it.
func beingStaged(t *testing.T) (*site, *client) {
	t.Helper()
	w := consoletest.New(t, nil)
	sg, err := w.Store.NewStager(t.Context(), store.StageConfig{Campaign: "writing", Definition: []byte(`{}`), Hash: "h", Env: consoletest.EnvName, Who: "erin", Host: "ci", ChunkSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sg.Abort(t.Context()) })
	s := newSite(t, w, false)
	return s, s.signIn(t, viewerToken)
}

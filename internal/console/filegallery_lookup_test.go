package console_test

import (
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/fixture"
)

// TestFileGalleryLookUpSaysWhyARowIsNotSent: QA runs `tidings
// console --env test --campaign FILE` (the campaign's own environment, whose
// allowlist admits altea.example only) and types recipients' addresses into
// the gallery's look-up before signing off: bob@elsewhere.example (not on
// the allowlist: send refuses him, not-allowed-in-test) and
// cy@altea.example (his name holds U+FFFD, what a lossy conversion left:
// send counts the row invalid, code invalid-utf8).
//
// The README (QA): "Type a recipient's id or email to see exactly that
// person's message, or why they are refused"; the gallery of a campaign
// file shows "exactly what send would stage then"; the outcomes: "refused
// (locale not covered, or not allowed in this environment); invalid (a bad
// row ...)".
//
// Found by red team 10: for bob the gallery showed his message as a picked
// card, as if he were to get it (send refuses him); for cy it said "No
// recipient with id or email ... in this campaign", though his row is in
// the file, line 4, and is not sent because it is invalid: the file's scan
// passed over invalid rows and never applied the environment's allowlist.
// The look-up now asks the plan of the file, as send does.
func TestFileGalleryLookUpSaysWhyARowIsNotSent(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	file := w.WriteCampaign(t, consoletest.Spec{Name: "qa-look", N: 9, Incomplt: true})
	fixture.Write(t, filepath.Join(filepath.Dir(file), "recipients.csv"), "email,name,locale,posts\n"+
		"ada@altea.example,Ada,de,1\n"+
		"bob@elsewhere.example,Bob,de,2\n"+
		"cy@altea.example,Cy \uFFFD,de,3\n")
	env := &environment.Environment{Name: consoletest.EnvName, Allow: []string{"altea.example"}}
	if env.Allowed("bob@elsewhere.example") || !env.Allowed("ada@altea.example") {
		t.Fatal("the allowlist does not admit exactly altea.example")
	}
	b, err := bundle.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	b.UseEnv(env) // as internal/cli/console.go does for --env with --campaign
	srv, err := console.New(console.Config{Users: users(t), Compose: compose, Env: consoletest.EnvName,
		File: &console.CampaignFile{Campaign: b.Campaign, Engine: b.Engine, Recipients: b.Recipients, Path: file, Env: env}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	v := (&site{Server: ts, w: w}).signIn(t, viewerToken)
	look := func(q string) string {
		t.Helper()
		code, body, _ := v.get("/file/gallery?r=" + url.QueryEscape(q))
		if code != http.StatusOK {
			t.Fatalf("look-up of %s: %d\n%s", q, code, body)
		}
		return html.UnescapeString(body)
	}
	if body := look("ada@altea.example"); strings.Contains(body, "No recipient with id or email") {
		t.Fatalf("ada, an accepted recipient, is not found")
	}
	if body := look("bob@elsewhere.example"); !strings.Contains(body, "not-allowed-in-"+consoletest.EnvName) {
		t.Errorf("look-up of bob@elsewhere.example, whom send refuses (not on the allowlist of %s): the page does not say not-allowed-in-%s (shows his message: %v)",
			consoletest.EnvName, consoletest.EnvName, strings.Contains(body, "bob@elsewhere.example (line 3"))
	}
	if body := look("cy@altea.example"); strings.Contains(body, "No recipient with id or email") || !strings.Contains(body, "line 4") {
		t.Errorf("look-up of cy@altea.example, the invalid row at line 4 (U+FFFD in his name): says he is not in the campaign, or does not name his line: %v",
			strings.Contains(body, "No recipient with id or email"))
	}
}

package console_test

import (
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/console/consoletest"
)

// TestIncompleteCardSaysWhatToFix: the red card of an incomplete
// language names the catalog file to complete and what to do next, as
// plan's refusal of its rows does, in the gallery of a campaign file
// (reload this page) and of a staged campaign (stage it again: the
// workers send the snapshot staged, not the file on disk).
//
// Found by red team 31 (QA signing off nine languages): the card said
// "incomplete: pt lacks welcome.reregister. Recipients of this language
// are refused, never sent another language." and no more: which file to
// edit, and that the console's page shows the fix on the next reload (or
// that a staged campaign must be staged again), was only in plan's output.
func TestIncompleteCardSaysWhatToFix(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "staged-inc", N: 12, Incomplt: true})
	file := w.WriteCampaign(t, consoletest.Spec{Name: "file-inc", N: 12, Incomplt: true})
	b, err := bundle.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	fileSrv, err := console.New(console.Config{Users: users(t), Compose: compose,
		File: &console.CampaignFile{Campaign: b.Campaign, Engine: b.Engine, Recipients: b.Recipients, Path: file}})
	if err != nil {
		t.Fatal(err)
	}
	fts := httptest.NewServer(fileSrv)
	t.Cleanup(fts.Close)
	staged := newSite(t, w, false).signIn(t, viewerToken)
	onFile := (&site{Server: fts, w: w}).signIn(t, viewerToken)
	card := regexp.MustCompile(`(?s)<section class="card refused" data-lang="pt">.*?</section>`)
	for _, tt := range []struct {
		name string
		v    *client
		path string
		want *regexp.Regexp
	}{
		{"campaign file", onFile, "/file/gallery", regexp.MustCompile(
			`incomplete: pt lacks welcome\.reregister\. Recipients of this language are refused, never sent another language: add welcome\.reregister to \S*locales/pt\.toml, then reload this page\.`)},
		{"staged campaign", staged, "/c/staged-inc/gallery", regexp.MustCompile(
			`incomplete: pt lacks welcome\.reregister\. Recipients of this language are refused, never sent another language: workers send the catalogs staged, so add welcome\.reregister to \S*pt\.toml, pause the campaign if it is sending \(send refuses to stage a running one\), and stage it again with send --resume-existing \(it stays paused until resumed\) to send them\.`)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, body, _ := tt.v.get(tt.path)
			if code != http.StatusOK {
				t.Fatalf("%s: %d\n%s", tt.path, code, body)
			}
			got := html.UnescapeString(card.FindString(body))
			if got == "" {
				t.Fatalf("%s: no red pt card\n%s", tt.path, body)
			}
			if !tt.want.MatchString(got) {
				t.Errorf("%s: the pt card does not say which file to complete and what to do next; want %s\n%s", tt.path, tt.want, got)
			}
		})
	}
}

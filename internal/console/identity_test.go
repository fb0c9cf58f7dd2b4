package console_test

import (
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/console/consoletest"
)

// TestGalleryFindsAMailboxByAnySpelling: a recipient is their mailbox
// (README, Concepts): the gallery's look-up by email finds the row of
// josé@bücher.test whether QA types it in NFC, in NFD, with the domain in
// its xn-- form or in capitals, in the gallery of the staged campaign and
// of the campaign file, and so for a refused row; the recipients page's
// search given a whole address finds the row by mailbox too.
func TestGalleryFindsAMailboxByAnySpelling(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	const c = "idn"
	file := w.WriteCampaign(t, consoletest.Spec{Name: c, N: 1, Locales: []string{"de"}})
	csv := "email,name,locale,posts\njosé@bücher.test,José,de,1\nzoë@bücher.test,Zoë,rm,2\n"
	if err := os.WriteFile(filepath.Join(filepath.Dir(file), "recipients.csv"), []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := w.CLI(t, "send", file, "--env", consoletest.EnvName, "--skip-refused", "--skip-invalid",
		"--rejects", filepath.Join(w.Dir, c+".rejects.csv")); code != 0 {
		t.Fatalf("send: exit %d\n%s", code, out)
	}
	staged := newSite(t, w, false).signIn(t, viewerToken)
	b, err := bundle.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := console.New(console.Config{Users: users(t), Compose: compose,
		File: &console.CampaignFile{Campaign: b.Campaign, Engine: b.Engine, Recipients: b.Recipients, Path: file}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	fromFile := (&site{Server: ts, w: w}).signIn(t, viewerToken)

	spellings := []struct{ name, jose, zoe string }{
		{"NFC", "josé@bücher.test", "zoë@bücher.test"},
		{"NFD", "jose\u0301@bu\u0308cher.test", "zoe\u0308@bu\u0308cher.test"},
		{"xn--", "josé@xn--bcher-kva.test", "zoë@xn--bcher-kva.test"},
		{"capitals", "JOSÉ@BÜCHER.TEST", "ZOË@XN--BCHER-KVA.TEST"},
	}
	galleries := []struct {
		name    string
		c       *client
		path    string
		refused string
	}{
		{"staged", staged, "/c/" + c + "/gallery", "was not staged"},
		{"file", fromFile, "/file/gallery", "is refused"},
	}
	for _, g := range galleries {
		for _, sp := range spellings {
			for _, tt := range []struct{ who, key, want string }{
				{"josé", sp.jose, "The message to"},
				{"zoë", sp.zoe, g.refused},
			} {
				code, body, _ := g.c.get(g.path + "?r=" + url.QueryEscape(tt.key))
				body = html.UnescapeString(body)
				if code != http.StatusOK || !strings.Contains(body, tt.want) || strings.Contains(body, "No recipient with id or email") {
					t.Errorf("%s gallery, %s spelt %s (%q): %d, lacks %q", g.name, tt.who, sp.name, tt.key, code, tt.want)
				}
			}
		}
	}
	for _, sp := range spellings {
		for _, tt := range []struct{ who, key, want string }{
			{"josé", sp.jose, ">josé@bücher.test</a></td>"},
			{"zoë", sp.zoe, ">zoë@bücher.test</a></td>"},
		} {
			code, body, _ := staged.get("/c/" + c + "/recipients?q=" + url.QueryEscape(tt.key))
			if body = html.UnescapeString(body); code != http.StatusOK || !strings.Contains(body, tt.want) {
				t.Errorf("recipients page, %s spelt %s (%q): %d, lacks %q", tt.who, sp.name, tt.key, code, tt.want)
			}
		}
	}
}

package console_test

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/console/consoletest"
)

// TestGalleryShowsALateLanguageWithItsRecipient: a staged
// campaign whose only German recipient comes after 20,000 English ones
// (a rare language in a large send: the product's target is 200,000)
// must show German with that recipient's data, not claim there is none.
//
// The promise (docs/console.md, "QA: sign off every language"): "The data
// used: the first recipient of that language in the recipients file (or
// staged campaign), else sample data, saying which." The card's "Data of"
// line reads "sample data (no recipient of this language)" only when the
// campaign has no recipient of that language.
//
// Was (red team 14A): the German card says "sample data (no recipient of this
// language)" although the staged campaign holds a German recipient; QA signs
// off a German message rendered with made-up data and is told nobody German
// is in the campaign.
//
// Cause: the scan of the staged recipients stopped after 20,000 rows
// (maxSampleScan) and the languages not met by then were rendered with
// sample data. Now staging records each language's first recipient
// (store.Meta.Firsts) and the gallery reads those.
func TestGalleryShowsALateLanguageWithItsRecipient(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	const n = 20001
	locales := make([]string, n)
	for i := range locales {
		locales[i] = "en"
	}
	locales[n-1] = "de" // recipient 20000, the last row
	w.Stage(t, consoletest.Spec{Name: "late", N: n, Locales: locales, Size: 5000})
	s := newSite(t, w, false)
	v := s.signIn(t, viewerToken)
	// The German recipient is staged: the look-up finds them (in their
	// batch, the last of five, as the recipients page links them: a
	// look-up without it reads at most 100 chunks).
	german := consoletest.Email(n-1, "de")
	if code, body, _ := v.get("/c/late/gallery?b=4&r=" + german); code != http.StatusOK || !strings.Contains(body, "The message to") {
		t.Fatalf("setup: the German recipient %s is not staged (%d):\n%s", german, code, body)
	}
	// As staged (each language's first recipient recorded).
	for _, staged := range []string{"now"} {
		code, body, _ := v.get("/c/late/gallery")
		if code != http.StatusOK {
			t.Fatalf("gallery (staged %s): %d\n%s", staged, code, body)
		}
		i := strings.Index(body, `data-lang="de"`)
		if i < 0 {
			t.Fatalf("the gallery (staged %s) has no German card:\n%s", staged, body)
		}
		de := body[i:]
		de = de[:strings.Index(de, "</section>")]
		dataOf := regexp.MustCompile(`<dt>Data of</dt><dd dir="auto">([^<]*)</dd>`).FindStringSubmatch(de)
		if dataOf == nil {
			t.Fatalf("the German card (staged %s) has no Data of line:\n%s", staged, de)
		}
		if !strings.Contains(dataOf[1], german) {
			t.Errorf("staged %s: the German card's data is %q, want the campaign's German recipient %s (the only one, line %d): "+
				"the card says there is no German recipient in a campaign that has one", staged, dataOf[1], german, n+1)
		}
	}
}

// TestGalleryNeverCallsASentLanguageNotSent: the same late
// German recipient, in a campaign whose template also prints a column of
// the recipients file (`plan`, which every row has). Staging accepts the
// German row (it renders) and a worker sends it; the gallery must not show
// German as a red "NOT SENT" card.
//
// The promise (docs/console.md, "QA: sign off every language"): a red card
// means "NOT SENT ... Recipients of this language are refused"; "The data
// used: the first recipient of that language ... else sample data".
//
// Was (red team 14A): past 20,000 rows the German card is rendered with sample
// data, which has no `plan` column, and is shown as a red card: "NOT SENT
// — ... this recipient has no column "plan": add it to the recipients
// file" (the file has it). QA is told German is not sent, for a reason
// that is false, while German recipients are sent a message nobody signed
// off.
//
// Cause: as TestGalleryShowsALateLanguageWithItsRecipient, and
// Server.card turning a render error of sample data into a NOT SENT card.
// The second case: with no German recipient at all, the German card is
// sample data, which lacks `plan`: it says "nothing to show", never NOT
// SENT (nobody German is in the campaign; made-up data says nothing of
// what is sent).
func TestGalleryNeverCallsASentLanguageNotSent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		n      int
		german bool // the last recipient is German
		want   string
	}{
		{name: "lateplan", n: 20001, german: true, want: consoletest.Email(20000, "de")},
		{name: "noplan", n: 3, want: "nothing to show: the campaign has no recipient of this language, and the sample data cannot render its message: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := consoletest.New(t, nil)
			locales := make([]string, tc.n)
			for i := range locales {
				locales[i] = "en"
			}
			if tc.german {
				locales[tc.n-1] = "de"
			}
			stageWithPlanColumn(t, w, consoletest.Spec{Name: tc.name, N: tc.n, Locales: locales, Size: 5000})
			s := newSite(t, w, false)
			v := s.signIn(t, viewerToken)
			if tc.german {
				german := consoletest.Email(tc.n-1, "de")
				if code, body, _ := v.get("/c/" + tc.name + "/gallery?b=4&r=" + german); code != http.StatusOK || !strings.Contains(body, "The message to") {
					t.Fatalf("setup: the German recipient %s is not staged with a message (%d):\n%s", german, code, body)
				}
			}
			_, body, _ := v.get("/c/" + tc.name + "/gallery")
			i := strings.Index(body, `data-lang="de"`)
			if i < 0 {
				t.Fatalf("the gallery has no German card:\n%s", body)
			}
			de := body[i:]
			de = de[:strings.Index(de, "</section>")]
			if strings.Contains(de, "NOT SENT") {
				t.Errorf("the gallery shows German as NOT SENT although German is covered and every German recipient (if any) is staged and will be sent:\n%s", de)
			}
			if !strings.Contains(html.UnescapeString(de), tc.want) {
				t.Errorf("the German card does not say %q:\n%s", tc.want, de)
			}
		})
	}
}

// stageWithPlanColumn stages spec with `tidings send`, its template also
// printing column plan of the recipients file, which every row has.
func stageWithPlanColumn(t *testing.T, w *consoletest.World, spec consoletest.Spec) {
	t.Helper()
	file := w.WriteCampaign(t, spec)
	dir := filepath.Dir(file)
	// The template, with one more column printed.
	tpl := filepath.Join(dir, "templates", "welcome")
	for _, f := range []string{"subject.tmpl", "html.tmpl", "text.tmpl"} {
		b, err := os.ReadFile(filepath.Join(consoletest.RepoRoot(t), "templates", "welcome", f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "text.tmpl" {
			b = append(b, "{{.Fields.plan}}\n"...)
		}
		if err := os.MkdirAll(tpl, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tpl, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	y, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	y = regexp.MustCompile(`(?m)^templates_dir: .*$`).ReplaceAll(y, []byte("templates_dir: "+filepath.Join(dir, "templates")))
	if err := os.WriteFile(file, y, 0o644); err != nil {
		t.Fatal(err)
	}
	csvPath := filepath.Join(dir, "recipients.csv")
	rows, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(rows), "\n"), "\n")
	lines[0] += ",plan"
	for i := 1; i < len(lines); i++ {
		lines[i] += ",gold"
	}
	if err := os.WriteFile(csvPath, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := w.CLI(t, "send", file, "--env", consoletest.EnvName); code != 0 {
		t.Fatalf("tidings send: exit %d\n%s", code, out)
	}
}

// BenchmarkStagedGallery loads the gallery page of a staged campaign of
// 200,000 recipients whose only German one is the last: "firsts" as staged
// (each language's first recipient recorded at staging).
func BenchmarkStagedGallery(b *testing.B) {
	w := consoletest.New(b, nil)
	const n = 200000
	locales := make([]string, n)
	for i := range locales {
		locales[i] = "en"
	}
	locales[n-1] = "de"
	w.Stage(b, consoletest.Spec{Name: "big", N: n, Locales: locales, Size: 50000})
	srv, err := console.New(console.Config{Store: w.Store, Env: consoletest.EnvName, Users: benchUsers(b), Compose: compose})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	b.Cleanup(ts.Close)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	body := func(path string, form url.Values) string {
		b.Helper()
		get := func() (*http.Response, error) { return c.Get(ts.URL + path) }
		if form != nil {
			get = func() (*http.Response, error) { return c.PostForm(ts.URL+path, form) }
		}
		resp, err := get()
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return string(out)
	}
	nonce := nonceRE.FindStringSubmatch(body("/login", nil))
	if nonce == nil {
		b.Fatal("no sign-in form")
	}
	body("/login", url.Values{"nonce": {nonce[1]}, "token": {viewerToken}, "next": {"/"}})
	german := consoletest.Email(n-1, "de")
	for _, bc := range []struct {
		name  string
		setup func()
	}{
		{"firsts", func() {}},
	} {
		bc.setup()
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if page := body("/c/big/gallery", nil); !strings.Contains(page, german) {
					b.Fatalf("the gallery does not show German with %s:\n%s", german, page)
				}
			}
		})
	}
}

// benchUsers is users for a benchmark.
func benchUsers(b *testing.B) []console.User {
	v, err := console.ParseTokens("quinn "+viewerToken, "viewers", console.RoleViewer)
	if err != nil {
		b.Fatal(err)
	}
	return v
}

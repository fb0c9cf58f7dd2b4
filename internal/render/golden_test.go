package render

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/tidings-mail/tidings/internal/golden"
	"github.com/tidings-mail/tidings/locales"
	"github.com/tidings-mail/tidings/templates"
)

// samples mirrors testdata/samples.json at the repository root.
type samples struct {
	Campaign   string                     `json:"campaign"`
	Data       map[string]any             `json:"data"`
	Recipients map[string]sampleRecipient `json:"recipients"`
}

// sampleRecipient is the sample recipient of one language.
type sampleRecipient struct {
	ID     string            `json:"id"`
	Email  string            `json:"email"`
	Name   string            `json:"name"`
	Locale string            `json:"locale"`
	Fields map[string]string `json:"fields"`
}

// sample returns the sample recipient of catalog language lang and the
// match of its locale in e, which must be lang.
func (s samples) sample(t *testing.T, e *Engine, lang string) (sampleRecipient, Match) {
	t.Helper()
	r, ok := s.Recipients[lang]
	if !ok {
		t.Fatalf("testdata/samples.json has no recipient for %s", lang)
	}
	m, err := e.Resolve(r.Locale)
	if err != nil {
		t.Fatal(err)
	}
	if m.Lang != lang {
		t.Fatalf("sample locale %s resolves to %s", r.Locale, m.Lang)
	}
	return r, m
}

func loadSamples(t testing.TB) samples {
	t.Helper()
	b, err := os.ReadFile("../../testdata/samples.json")
	if err != nil {
		t.Fatal(err)
	}
	var s samples
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("testdata/samples.json: %v", err)
	}
	return s
}

// TestGolden renders every bundled template in every bundled language with
// the sample recipient of that language (requested with a regional locale
// such as de-CH) and compares with testdata/golden/<template>/<lang>.golden,
// with an engine that folds the sample campaign data and one that does not:
// both give the same bytes.
// Refresh with: go test ./internal/render -update
func TestGolden(t *testing.T) {
	s := loadSamples(t)
	for _, name := range templateNames(templates.FS) {
		for _, mode := range []struct {
			name string
			data map[string]any
		}{{"", nil}, {"/campaign-data", s.Data}} {
			e, err := New(Config{Templates: templates.FS, Locales: locales.FS, Template: name, DefaultLocale: "en", Data: mode.data})
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, e, s, name, mode.name, mode.data == nil)
		}
	}
}

// checkGolden compares the golden renderings of template name with engine e;
// with write, they are the ones -update rewrites (golden.Check).
func checkGolden(t *testing.T, e *Engine, s samples, name, mode string, write bool) {
	t.Helper()
	for _, c := range e.Languages() {
		t.Run(name+"/"+c.Lang+mode, func(t *testing.T) {
			r, m := s.sample(t, e, c.Lang)
			out, err := e.Render(m, Data{ID: r.ID, Email: r.Email, Name: r.Name, Campaign: s.Campaign, Fields: r.Fields, Data: s.Data})
			if err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprintf("Lang: %s\nSubject: %s\n\n===== text =====\n%s\n===== html =====\n%s", out.Lang, out.Subject, out.Text, out.HTML)
			path := filepath.Join("testdata", "golden", name, c.Lang+".golden")
			if write {
				golden.Check(t, path, got)
			} else {
				golden.Compare(t, path, got)
			}
		})
	}
}

// BenchmarkRender renders the welcome template in German for one recipient,
// with an engine that is not given the campaign's data (.Data stays an
// action).
func BenchmarkRender(b *testing.B) {
	benchmarkRender(b, nil)
}

// BenchmarkRenderCampaignData is BenchmarkRender with the campaign's data
// given to the engine (Config.Data), folded into the templates.
func BenchmarkRenderCampaignData(b *testing.B) {
	benchmarkRender(b, map[string]any{"reregister_url": "https://altea.example/re-register"})
}

func benchmarkRender(b *testing.B, data map[string]any) {
	e, err := New(Config{Templates: templates.FS, Locales: locales.FS, Template: "welcome", DefaultLocale: "en", Data: data})
	if err != nil {
		b.Fatal(err)
	}
	m, err := e.Resolve("de-CH")
	if err != nil {
		b.Fatal(err)
	}
	d := Data{ID: "u1", Email: "juergen@example.de", Name: "Jürgen Groß", Campaign: "altea",
		Fields: map[string]string{"posts": "12"}, Data: map[string]any{"reregister_url": "https://altea.example/re-register"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Render(m, d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResolve(b *testing.B) {
	e, err := New(Config{Templates: templates.FS, Locales: locales.FS, Template: "welcome", DefaultLocale: "en"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Resolve("de-CH"); err != nil {
			b.Fatal(err)
		}
	}
}

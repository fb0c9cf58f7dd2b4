package bundle_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/demo"
	"github.com/tidings-mail/tidings/internal/environment"
)

// sample writes the bundled demo campaign into a new directory.
func sample(t *testing.T) string {
	t.Helper()
	file, err := demo.Prepare(filepath.Join(t.TempDir(), "demo"))
	if err != nil {
		t.Fatal(err)
	}
	return file
}

func TestLoad(t *testing.T) {
	t.Parallel()
	b, err := bundle.Load(sample(t))
	if err != nil {
		t.Fatal(err)
	}
	if b.Campaign.Name != "altea-migration-demo" || b.Engine == nil || b.Templates == nil || b.Locales == nil {
		t.Fatalf("bundle %+v", b)
	}
	// Valid rows only, in file order: the demo's invalid row is passed over.
	next, done, err := b.Recipients()
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	n := 0
	for {
		r, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if r.Email == "not-an-email" {
			t.Errorf("the invalid row was offered: %+v", r)
		}
		n++
	}
	if n != 29 {
		t.Errorf("%d valid rows, want 29 of the demo's 30", n)
	}
	samples, err := b.Samples(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var langs []string
	for l, s := range samples {
		if s.First != nil {
			langs = append(langs, l)
		}
	}
	slices.Sort(langs)
	if want := []string{"ar", "de", "en", "es", "fr", "it", "ja", "pl", "ru"}; !slices.Equal(langs, want) {
		t.Errorf("first recipient per language for %v, want %v", langs, want)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	var nf *bundle.NotFoundError
	if _, err := bundle.Load(missing); !errors.As(err, &nf) || nf.File != missing {
		t.Errorf("missing file: %v", err)
	}
	file := sample(t)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(b), "templates_dir: templates", "templates_dir: nope", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	var de *bundle.DirError
	if _, err := bundle.Load(file); !errors.As(err, &de) || de.Key != "templates_dir" || de.Dir != filepath.Join(filepath.Dir(file), "nope") {
		t.Errorf("missing templates_dir: %v", err)
	}
	if _, err := bundle.LoadFile(file); err != nil {
		t.Errorf("LoadFile reads the campaign file only: %v", err)
	}

	// A catalog that does not parse is named by a path the operator can
	// open from where they ran the command, not relative to the campaign.
	file = sample(t)
	deToml := filepath.Join(filepath.Dir(file), "locales", "de.toml")
	if err := os.WriteFile(deToml, []byte("[welcome.subject\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := bundle.Load(file); err == nil || !strings.Contains(err.Error(), deToml+":2: catalog syntax error") {
		t.Errorf("broken catalog: %v, want it named %s:2", err, deToml)
	}

	// A language the campaign maps to without a catalog is named with the
	// campaign file's line and key.
	for _, tt := range []struct{ from, to, want string }{
		{"aliases: { gsw: de }", "aliases: { gsw: nl }", `:13: locale_policy.aliases.gsw: no catalog for "nl"`},
		{"missing_locale: refuse", "missing_locale: nl", `:14: locale_policy.missing_locale: no catalog for "nl"`},
		{"default_locale: en", "default_locale: nl", `:8: default_locale: no catalog for "nl"`},
	} {
		file = sample(t)
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), tt.from) {
			t.Fatalf("the demo campaign no longer has %q", tt.from)
		}
		if err := os.WriteFile(file, []byte(strings.Replace(string(b), tt.from, tt.to, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := bundle.Load(file); err == nil || !strings.Contains(err.Error(), file+tt.want) || !strings.Contains(err.Error(), "add nl.toml to the locales directory") {
			t.Errorf("%s: %v, want %s%s and what to do", tt.to, err, file, tt.want)
		}
	}
}

// TestUseEnv: the environment's list_unsubscribe fills a campaign that sets
// none and never replaces the campaign's own; no environment, or another
// than the one the campaign is pinned to (the demo's: production), changes
// nothing.
func TestUseEnv(t *testing.T) {
	t.Parallel()
	env := &environment.Environment{Name: "production", ListUnsubscribe: "https://env.example/u?id={id}"}
	other := &environment.Environment{Name: "staging", ListUnsubscribe: "https://staging.example/u?id={id}"}
	tests := []struct {
		name, own string
		env       *environment.Environment
		want      string
	}{
		{"campaign sets none", "", env, env.ListUnsubscribe},
		{"campaign's own wins", "mailto:u@own.example", env, "mailto:u@own.example"},
		{"no environment", "", nil, ""},
		{"another environment than the campaign's", "", other, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := bundle.Load(sample(t))
			if err != nil {
				t.Fatal(err)
			}
			b.Campaign.ListUnsubscribe = tt.own
			b.UseEnv(tt.env)
			if b.Campaign.ListUnsubscribe != tt.want {
				t.Errorf("list_unsubscribe %q, want %q", b.Campaign.ListUnsubscribe, tt.want)
			}
		})
	}
}

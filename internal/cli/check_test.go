package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/golden"
)

func TestCheckBundledSample(t *testing.T) {
	t.Parallel()
	r := cli(t, nil, "check", "--templates", "../../templates", "--locales", "../../locales")
	if r.code != 0 {
		t.Fatalf("check on the bundled sample: want exit 0\n%s", r)
	}
	if !strings.Contains(r.stdout, "check ok") {
		t.Errorf("no 'check ok' summary:\n%s", r)
	}
}

func TestCheckIncompleteCatalog(t *testing.T) {
	t.Parallel()
	r := cli(t, nil, "check", "--templates", "../../templates", "--locales", "../../testdata/locales-incomplete")
	if r.code != 1 {
		t.Fatalf("want exit 1\n%s", r)
	}
	fileLine := regexp.MustCompile(`(?m)^(\S+):(\d+): (.*)$`)
	var pt, pl bool
	for _, m := range fileLine.FindAllStringSubmatch(r.stdout, -1) {
		line := m[0]
		pt = pt || strings.Contains(line, "pt.toml")
		pl = pl || strings.HasSuffix(m[1], "pl.toml") && strings.Contains(line, "few")
	}
	if !pt || !pl {
		t.Errorf("want file:line: messages naming pt.toml (missing key) and pl.toml (missing plural form few); pt=%v pl=%v\n%s", pt, pl, r)
	}
	golden.Check(t, filepath.Join("testdata", "check-incomplete.golden"), r.stdout)
}

// TestCheckLiteralProse: check CAMPAIGN fails on English prose written into
// the campaign's templates, with file:line and the text (it passed, and
// the text went to every language).
func TestCheckLiteralProse(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	tdir := filepath.Join(t.TempDir(), "templates")
	for f, prose := range map[string]string{"subject.tmpl": "Welcome! ", "text.tmpl": "Your password has been reset. Click below.\n", "html.tmpl": ""} {
		fixture.Write(t, filepath.Join(tdir, "welcome", f), prose+fixture.Read(t, filepath.Join(root, "templates", "welcome", f)))
	}
	r := cli(t, nil, "check", writeCampaign(t, campaignFile{tmpls: tdir, rows: []string{"a@example.org,Ann,en,1"}}))
	if r.code != 1 || !strings.Contains(r.stdout, "check FAILED") {
		t.Fatalf("want exit 1 and check FAILED\n%s", r)
	}
	for _, want := range []string{
		filepath.Join(tdir, "welcome", "subject.tmpl") + `:1: literal text "Welcome!"`,
		filepath.Join(tdir, "welcome", "text.tmpl") + `:1: literal text "Your password has been reset. Click below."`,
		", 2 error(s)",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q\n%s", want, r)
		}
	}
}

func TestCheckBadInput(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	tests := []struct {
		name string
		// setup returns the arguments and the file the message must name.
		setup func(t *testing.T) (args []string, names string)
	}{
		{"unknown template in campaign", func(t *testing.T) ([]string, string) {
			f := writeCampaign(t, campaignFile{tmpl: "nosuch", rows: []string{"a@example.org,Ann,en,1"}})
			return []string{"check", f}, "nosuch"
		}},
		{"default language without catalog, with the campaign file's line", func(t *testing.T) ([]string, string) {
			f := writeCampaign(t, campaignFile{rows: []string{"a@example.org,Ann,en,1"}})
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			fixture.Write(t, f, strings.Replace(string(b), "default_locale: en", "default_locale: nl", 1))
			return []string{"check", f}, "campaign.yaml:6: default_locale: no catalog for \"nl\""
		}},
		{"an alias to a language without catalog, with the campaign file's line", func(t *testing.T) ([]string, string) {
			f := writeCampaign(t, campaignFile{rows: []string{"a@example.org,Ann,en,1"}, extra: "locale_policy:\n  aliases: { gsw: nb }\n"})
			return []string{"check", f}, "locale_policy.aliases.gsw: no catalog for \"nb\""
		}},
		{"campaign's templates_dir not a directory", func(t *testing.T) ([]string, string) {
			f := writeCampaign(t, campaignFile{tmpls: filepath.Join(t.TempDir(), "nope"), rows: []string{"a@example.org,Ann,en,1"}})
			return []string{"check", f}, "campaign.yaml:4: templates_dir: "
		}},
		{"missing templates directory", func(t *testing.T) ([]string, string) {
			missing := filepath.Join(t.TempDir(), "nope")
			return []string{"check", "--templates", missing, "--locales", filepath.Join(root, "locales")}, missing
		}},
		{"missing locales directory", func(t *testing.T) ([]string, string) {
			missing := filepath.Join(t.TempDir(), "nope")
			return []string{"check", "--templates", filepath.Join(root, "templates"), "--locales", missing}, missing
		}},
		{"--default-locale without catalog names the flag", func(t *testing.T) ([]string, string) {
			return []string{"check", "--templates", filepath.Join(root, "templates"), "--locales", filepath.Join(root, "locales"), "--default-locale", "xx"},
				"--default-locale xx: no catalog for \"xx\""
		}},
		{"missing campaign file", func(t *testing.T) ([]string, string) {
			missing := filepath.Join(t.TempDir(), "nope.yaml")
			return []string{"check", missing}, missing
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args, name := tt.setup(t)
			r := cli(t, nil, args...)
			if r.code != 2 {
				t.Fatalf("want exit 2\n%s", r)
			}
			msg := strings.TrimSpace(r.stderr)
			if strings.Count(msg, "tidings:") != 1 || strings.Contains(msg, "panic") {
				t.Errorf("want exactly one message on stderr\n%s", r)
			}
			if !strings.Contains(msg, name) {
				t.Errorf("message does not name %q\n%s", name, r)
			}
		})
	}
}

// TestCheckParseErrorsAreProblems: a template or catalog that does not
// parse is a problem like the others: printed with its file and line, the
// other files still checked, the summary and --json written, exit 1.
func TestCheckParseErrorsAreProblems(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	copyTree := func(t *testing.T) (tdir, ldir string) {
		t.Helper()
		dir := t.TempDir()
		tdir, ldir = filepath.Join(dir, "templates"), filepath.Join(dir, "locales")
		for _, f := range []string{"subject.tmpl", "html.tmpl", "text.tmpl"} {
			fixture.Write(t, filepath.Join(tdir, "welcome", f), fixture.Read(t, filepath.Join(root, "templates", "welcome", f)))
		}
		for _, l := range []string{"en", "de", "fr"} {
			fixture.Write(t, filepath.Join(ldir, l+".toml"), fixture.Read(t, filepath.Join(root, "locales", l+".toml")))
		}
		return tdir, ldir
	}
	tests := []struct {
		name  string
		setup func(t *testing.T) (args []string, names string)
	}{
		{"unparsable template", func(t *testing.T) ([]string, string) {
			tdir, ldir := copyTree(t)
			fixture.Write(t, filepath.Join(tdir, "welcome", "subject.tmpl"), `{{t "x" .}`+"\n")
			return []string{"check", "--templates", tdir, "--locales", ldir}, filepath.Join(tdir, "welcome", "subject.tmpl") + ":1:"
		}},
		{"toml syntax error", func(t *testing.T) ([]string, string) {
			tdir, ldir := copyTree(t)
			de := filepath.Join(ldir, "de.toml")
			fixture.Write(t, de, fixture.Read(t, de)+"\n[welcome.broken\nother = \"x\"\n")
			return []string{"check", "--templates", tdir, "--locales", ldir}, de + ":"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args, name := tt.setup(t)
			r := cli(t, nil, args...)
			if r.code != 1 || !strings.Contains(r.stdout, name) || !strings.Contains(r.stdout, "check FAILED") || !strings.Contains(r.stdout, "en (default)") {
				t.Fatalf("want exit 1, the problem at %s and the summary\n%s", name, r)
			}
			r = cli(t, nil, append(args, "--json")...)
			var res struct {
				Errors   int `json:"errors"`
				Problems []struct {
					File string `json:"file"`
				} `json:"problems"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || r.code != 1 || res.Errors < 1 {
				t.Fatalf("--json: %v, %+v\n%s", err, res, r)
			}
		})
	}
}

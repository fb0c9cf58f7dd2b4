package preview_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/preview"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/worker"
)

// catalogs are complete catalogs by language; "incomplete" lacks hello.
var catalogs = map[string]string{
	"en":         "[subject]\nother = \"News\"\n[hello]\nother = \"Hello {{.Name}}\"\n",
	"de":         "[subject]\nother = \"Neuigkeiten\"\n[hello]\nother = \"Hallo {{.Name}}\"\n",
	"fr":         "[subject]\nother = \"Nouvelles\"\n[hello]\nother = \"Bonjour {{.Name}}\"\n",
	"incomplete": "[subject]\nother = \"Neuigkeiten\"\n",
}

// galleryOf writes the preview of an engine with a catalog per langs
// entry ("de=incomplete": de's catalog lacks a message) into out.
func galleryOf(t *testing.T, out string, langs ...string) *preview.Result {
	t.Helper()
	tmpl, loc := fstest.MapFS{}, fstest.MapFS{}
	for part, src := range map[string]string{"subject": `{{t "subject" .}}`, "text": `{{t "hello" .}}`, "html": `<p>{{t "hello" .}}</p>`} {
		tmpl["m/"+part+".tmpl"] = &fstest.MapFile{Data: []byte(src)}
	}
	for _, l := range langs {
		lang, cat, ok := strings.Cut(l, "=")
		if !ok {
			cat = lang
		}
		loc[lang+".toml"] = &fstest.MapFile{Data: []byte(catalogs[cat])}
	}
	e, err := render.New(render.Config{Templates: tmpl, Locales: loc, Template: "m", DefaultLocale: "en"})
	if err != nil {
		t.Fatalf("render.New: %v", err)
	}
	res, err := preview.Run(context.Background(), preview.Options{Engine: e, Campaign: "c1", Samples: preview.DefaultSamples(), Out: out,
		Composer: worker.NewComposer(&campaign.Campaign{Name: "c1", From: "news@example.org"}, ""), Now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
	if err != nil {
		t.Fatalf("preview.Run: %v", err)
	}
	return res
}

// TestGalleryFilesAreTheirOwnersAlone: each file of a gallery holds a
// real recipient's data (address, name, fields), as a report does, so it
// is readable by its owner alone (userfile.Perm, 0600) whatever the umask,
// and so is one an earlier run (or version, 0644) left; a directory the
// preview creates is its owner's alone (0700), one that exists keeps the
// permissions its owner gave it. They were 0644 and 0755.
func TestGalleryFilesAreTheirOwnersAlone(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		dir     fs.FileMode // 0: no directory yet
		earlier fs.FileMode // 0: no earlier gallery in it
		want    fs.FileMode // of the directory
	}{
		{"new directory", 0, 0, 0o700},
		{"a 0750 directory", 0o750, 0, 0o750},
		{"over a 0644 gallery", 0o755, 0o644, 0o755},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "gallery")
			if tt.dir != 0 {
				fixture.Write(t, filepath.Join(out, "x"), "")
				if err := os.Remove(filepath.Join(out, "x")); err != nil {
					t.Fatal(err)
				}
				fixture.Chmod(t, out, tt.dir)
			}
			if tt.earlier != 0 {
				for _, f := range []string{"index.html", "en.html", "en.txt", "en.eml"} {
					fixture.Write(t, filepath.Join(out, f), "earlier")
					fixture.Chmod(t, filepath.Join(out, f), tt.earlier)
				}
			}
			galleryOf(t, out, "en", "de")
			if got := fixture.Perm(t, out); got != tt.want {
				t.Errorf("directory: mode %v, want %v", got, tt.want)
			}
			files := fixture.Names(t, out)
			for _, f := range []string{"index.html", "en.html", "en.txt", "en.eml", "de.html", "de.txt", "de.eml"} {
				if !slices.Contains(files, f) {
					t.Errorf("%s not written (%v)", f, files)
					continue
				}
			}
			for _, f := range files {
				if got := fixture.Perm(t, filepath.Join(out, f)); got != 0o600 {
					t.Errorf("%s: mode %v, want %v", f, got, fs.FileMode(0o600))
				}
			}
		})
	}
}

// TestARerunLeavesNoFileOfAnEarlierRun: a preview written into the
// directory of an earlier one leaves no file of it that it did not write
// itself: a language removed since (fr) or now incomplete (de) has no
// .html, .txt or .eml QA could open and approve, and the index shows no
// link to one; a file of the user's in the directory, whatever its name,
// is kept. The earlier run's files stayed.
func TestARerunLeavesNoFileOfAnEarlierRun(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	own := map[string]string{"notes.txt": "QA notes", "it.html": "an Italian draft of the user's", "fr.eml.bak": "kept"}
	for f, s := range own {
		fixture.Write(t, filepath.Join(out, f), s)
	}
	first := galleryOf(t, out, "en", "de", "fr")
	if len(first.Languages) != 3 {
		t.Fatalf("first run: %d languages, want 3", len(first.Languages))
	}
	galleryOf(t, out, "en", "de=incomplete")

	var got []string
	for _, f := range fixture.Names(t, out) {
		if _, ok := own[f]; !ok && !strings.HasPrefix(f, ".") {
			got = append(got, f)
		}
	}
	want := []string{"en.eml", "en.html", "en.txt", "index.html"}
	if !slices.Equal(got, want) {
		t.Errorf("files of tidings after the second run: %v, want %v", got, want)
	}
	for f, s := range own {
		if b, err := os.ReadFile(filepath.Join(out, f)); err != nil || string(b) != s {
			t.Errorf("the user's %s: %q, %v; want it kept as it was", f, b, err)
		}
	}
	index := fixture.Read(t, filepath.Join(out, "index.html"))
	for _, lang := range []string{"de", "fr"} {
		for _, ext := range []string{".html", ".txt", ".eml"} {
			if strings.Contains(index, fmt.Sprintf("%q", lang+ext)) {
				t.Errorf("index.html links %s%s, which is not written", lang, ext)
			}
		}
	}
	if !strings.Contains(index, `"en.html"`) {
		t.Errorf("index.html does not link en.html:\n%s", index)
	}
}

// TestAManifestNamesNothingOutsideItsGallery: a preview removes only
// files in its directory whose names are those it writes, whatever the
// manifest lists (edited by hand, or by someone else).
func TestAManifestNamesNothingOutsideItsGallery(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	out := filepath.Join(root, "gallery")
	kept := []string{filepath.Join(root, "outside.html"), filepath.Join(out, "sub.html", "x.html"), filepath.Join(out, "notes.md"), filepath.Join(out, ".hidden.txt")}
	for _, f := range kept {
		fixture.Write(t, f, "the user's")
	}
	fixture.Write(t, filepath.Join(out, preview.Manifest), "# listed by hand\n../outside.html\nsub.html\nsub.html/x.html\nnotes.md\n.hidden.txt\n"+out+"/notes.md\n")
	galleryOf(t, out, "en")
	for _, f := range kept {
		if got := fixture.Read(t, f); got != "the user's" {
			t.Errorf("%s: %q, want it kept", f, got)
		}
	}
}

// TestAGalleryMadeBeforeTheManifest: a gallery written by a version of
// tidings before the manifest (.tidings-gallery) has none, so a preview
// into its directory removed none of its files: a language removed since
// (fr) or now incomplete (de) kept its .html, .txt and .eml for QA to open
// and approve. Its index.html is tidings' own and links the files that
// gallery wrote: those are removed, and nothing else. A file of a
// language's name that no index links (the user's, or left by a gallery
// before that one) is kept and named in Result.Stale, for the operator to
// remove; with no gallery index in the directory, or an index.html of the
// user's, nothing is removed nor named.
func TestAGalleryMadeBeforeTheManifest(t *testing.T) {
	t.Parallel()
	userIndex := `<!doctype html><title>Our drafts</title><a href="fr.html">fr</a>`
	for _, tt := range []struct {
		name    string
		index   string   // index.html of the earlier gallery: "" that gallery's own, "-" none
		removed []string // of the earlier gallery's files
		stale   []string
	}{
		{"its own index", "", []string{"de.eml", "de.html", "de.txt", "fr.eml", "fr.html", "fr.txt"}, []string{"it.html", "rm.html"}},
		{"no index", "-", nil, nil},
		{"an index of the user's", userIndex, nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := t.TempDir()
			galleryOf(t, out, "en", "de", "fr")
			// As the version before the manifest left it.
			if err := os.Remove(filepath.Join(out, preview.Manifest)); err != nil {
				t.Fatal(err)
			}
			switch tt.index {
			case "":
			case "-":
				if err := os.Remove(filepath.Join(out, "index.html")); err != nil {
					t.Fatal(err)
				}
			default:
				fixture.Write(t, filepath.Join(out, "index.html"), tt.index)
			}
			// Not linked by that index: a gallery before it left rm.html; the
			// user's own it.html and notes.txt.
			own := map[string]string{"rm.html": "an earlier gallery's", "it.html": "an Italian draft of the user's", "notes.txt": "QA notes"}
			for f, s := range own {
				fixture.Write(t, filepath.Join(out, f), s)
			}
			before := fixture.Names(t, out)
			res := galleryOf(t, out, "en", "de=incomplete")
			after := fixture.Names(t, out)
			var removed []string
			for _, f := range before {
				if !slices.Contains(after, f) {
					removed = append(removed, f)
				}
			}
			if !slices.Equal(removed, tt.removed) {
				t.Errorf("removed %v, want %v", removed, tt.removed)
			}
			for f, s := range own {
				if got := fixture.Read(t, filepath.Join(out, f)); got != s {
					t.Errorf("%s: %q, want it kept", f, got)
				}
			}
			var stale []string
			for _, p := range res.Stale {
				if filepath.Dir(p) != out {
					t.Errorf("stale %s: not a path in %s", p, out)
				}
				stale = append(stale, filepath.Base(p))
			}
			if !slices.Equal(stale, tt.stale) {
				t.Errorf("stale %v, want %v", stale, tt.stale)
			}
		})
	}
}

package render

import (
	"slices"
	"testing"
	"testing/fstest"

	"github.com/tidings-mail/tidings/locales"
	"github.com/tidings-mail/tidings/templates"
)

func TestDiffSnapshots(t *testing.T) {
	t.Parallel()
	approved := map[string][]byte{
		"templates/welcome/text.tmpl": []byte("Hello"),
		"locales/de.toml":             []byte(`hello = "Hallo"`),
		"locales/en.toml":             []byte(`hello = "Hello"`),
	}
	// with returns approved with the files in set replaced (nil: removed).
	with := func(set map[string][]byte) map[string][]byte {
		out := make(map[string][]byte, len(approved))
		for k, b := range approved {
			out[k] = b
		}
		for k, b := range set {
			if b == nil {
				delete(out, k)
			} else {
				out[k] = b
			}
		}
		return out
	}
	for _, tt := range []struct {
		name     string
		approved map[string][]byte
		got      map[string][]byte
		want     []FileDiff
	}{
		{"same", approved, with(nil), nil},
		{"both empty", nil, map[string][]byte{}, nil},
		{"changed", approved, with(map[string][]byte{"locales/de.toml": []byte(`hello = "Servus"`)}),
			[]FileDiff{{"locales/de.toml", FileChanged}}},
		{"emptied", approved, with(map[string][]byte{"locales/de.toml": {}}),
			[]FileDiff{{"locales/de.toml", FileChanged}}},
		{"missing", approved, with(map[string][]byte{"templates/welcome/text.tmpl": nil}),
			[]FileDiff{{"templates/welcome/text.tmpl", FileMissing}}},
		{"extra", approved, with(map[string][]byte{"locales/fr.toml": []byte(`hello = "Bonjour"`)}),
			[]FileDiff{{"locales/fr.toml", FileExtra}}},
		{"all three, sorted by file", approved, with(map[string][]byte{
			"templates/welcome/text.tmpl": nil,
			"locales/en.toml":             []byte(`hello = "Hi"`),
			"locales/ar.toml":             []byte(`hello = "مرحبا"`),
		}), []FileDiff{{"locales/ar.toml", FileExtra}, {"locales/en.toml", FileChanged}, {"templates/welcome/text.tmpl", FileMissing}}},
		{"nothing approved", nil, approved,
			[]FileDiff{{"locales/de.toml", FileExtra}, {"locales/en.toml", FileExtra}, {"templates/welcome/text.tmpl", FileExtra}}},
		{"nothing here", approved, nil,
			[]FileDiff{{"locales/de.toml", FileMissing}, {"locales/en.toml", FileMissing}, {"templates/welcome/text.tmpl", FileMissing}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := DiffSnapshots(tt.approved, tt.got); !slices.Equal(got, tt.want) {
				t.Errorf("DiffSnapshots = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDiffSnapshotsOfFiles compares snapshots taken by Snapshot, as a worker
// compares its own files with the approved ones: a catalog edited after
// approval, one removed and one added are each named.
func TestDiffSnapshotsOfFiles(t *testing.T) {
	t.Parallel()
	approved, err := Snapshot(templates.FS, locales.FS, "welcome")
	if err != nil {
		t.Fatal(err)
	}
	loc := localesWith(t, map[string]string{"nb.toml": catalogLike(t, "en")})
	loc["de.toml"] = &fstest.MapFile{Data: append(slices.Clone(loc["de.toml"].Data), "\n# edited after approval\n"...)}
	delete(loc, "fr.toml")
	got, err := Snapshot(templates.FS, loc, "welcome")
	if err != nil {
		t.Fatal(err)
	}
	want := []FileDiff{{"locales/de.toml", FileChanged}, {"locales/fr.toml", FileMissing}, {"locales/nb.toml", FileExtra}}
	if d := DiffSnapshots(approved, got); !slices.Equal(d, want) {
		t.Errorf("DiffSnapshots = %v, want %v", d, want)
	}
	if d := DiffSnapshots(approved, approved); d != nil {
		t.Errorf("DiffSnapshots of a snapshot with itself = %v, want nil", d)
	}
}

func TestFileChangeString(t *testing.T) {
	t.Parallel()
	for c, want := range map[FileChange]string{FileChanged: "changed", FileMissing: "missing", FileExtra: "extra", 0: "FileChange(0)"} {
		if got := c.String(); got != want {
			t.Errorf("FileChange(%d).String() = %q, want %q", int(c), got, want)
		}
	}
}

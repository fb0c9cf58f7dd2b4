package preview_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGalleryNamesACatalogFileSpelledOtherwise: a catalog file named with
// a legacy or individual-language code (iw.toml, cmn.toml) is the catalog
// of the language it means (he, zh), and its card says which file that is,
// so that QA looking for the iw catalog finds it under he; a file named
// for its language says nothing more.
func TestGalleryNamesACatalogFileSpelledOtherwise(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	res := galleryOf(t, out, "en", "iw=de", "cmn=fr")
	want := map[string]string{"en": "", "he": "locales/iw.toml (its name, iw, is he)", "zh": "locales/cmn.toml (its name, cmn, is zh)"}
	if len(res.Languages) != len(want) {
		t.Fatalf("languages %+v; want %v", res.Languages, want)
	}
	index, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	res.WriteTable(&table)
	for _, l := range res.Languages {
		if w := want[l.Lang]; w != "" && !strings.Contains(table.String(), "[catalog "+w+"]") {
			t.Errorf("the table does not say %q:\n%s", "[catalog "+w+"]", table.String())
		}
		w, ok := want[l.Lang]
		if !ok || l.Catalog != w {
			t.Errorf("%s: Catalog %q; want %q", l.Lang, l.Catalog, w)
		}
		if w != "" && !strings.Contains(string(index), "Catalog</b> "+w) {
			t.Errorf("index.html does not say %q", "Catalog</b> "+w)
		}
	}
}

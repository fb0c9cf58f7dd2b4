package preview_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestIndexSaysHowToCompleteAnIncompleteLanguage: the NOT SENT card of
// an incomplete language in index.html names the catalog file to
// complete and what to do then, as the console's gallery does.
//
// Found by red team 31 (QA signing off nine languages): the card said
// "NOT SENT — incomplete: de lacks hello. Recipients of this language
// would be refused." and no more; the file to edit was only in plan's
// output.
func TestIndexSaysHowToCompleteAnIncompleteLanguage(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	galleryOf(t, out, "en", "de=incomplete")
	index, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	card := regexp.MustCompile(`<div class="banner">NOT SENT — incomplete: de lacks hello\.[^<]*</div>`).Find(index)
	if card == nil {
		t.Fatalf("index.html has no NOT SENT card for de:\n%s", index)
	}
	want := regexp.MustCompile(`: add hello to \S*de\.toml, then run preview again\.</div>$`)
	if !want.Match(card) {
		t.Errorf("the de card does not say which file to complete and what to do then; want %s\n%s", want, card)
	}
}

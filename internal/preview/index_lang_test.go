package preview_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestIndexMarksEachLanguagesText: index.html shows a language's subject
// and plain text inside an element with its lang and dir, as the console's
// gallery and the message's own HTML do: Arabic and Hebrew right to left,
// and each in its language for the browser's glyphs (zh-Hant, ja) and a
// screen reader's voice.
//
// Found by red team 31: both were in a bare <div> and <pre> of the page
// (lang="en", left to right), so Hebrew plain text was laid out left to
// right, unlike in the recipient's mail.
func TestIndexMarksEachLanguagesText(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	galleryOf(t, out, "en", "he=de", "ar=fr")
	index, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ lang, dir, subject, text string }{
		{"en", "ltr", "News", "Hello "},
		{"he", "rtl", "Neuigkeiten", "Hallo "},
		{"ar", "rtl", "Nouvelles", "Bonjour "},
	} {
		attrs := `dir="` + tt.dir + `" lang="` + tt.lang + `"`
		subject := regexp.MustCompile(`<div class="field"><b>Subject</b> <span ` + attrs + `>` + tt.subject + `</span></div>`)
		text := regexp.MustCompile(`<pre ` + attrs + `>` + tt.text)
		if !subject.Match(index) {
			t.Errorf("%s: index.html lacks %s", tt.lang, subject)
		}
		if !text.Match(index) {
			t.Errorf("%s: index.html lacks %s", tt.lang, text)
		}
	}
}

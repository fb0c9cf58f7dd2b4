package console_test

import (
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
)

// TestRecipientsSayWhyALanguageMatchesNobody: the recipients page of a
// campaign of en, de and nl recipients (nl refused: no catalog), filtered
// by a language that is not one of the campaign's. Before, each answered
// "0 matches" and nothing else: QA read "nobody Dutch" of a campaign that
// refused its Dutch recipients, or of one that sends its de-CH
// recipients in de. Now:
//   - nl, a refused locale: 0 matches, and the page says that the
//     recipients with locale nl were refused, how many, and links them;
//   - de-CH, a locale sent in de: 0 matches, and the page says in which
//     language they are sent;
//   - sv, a language nobody asked for: 0 matches, and the page says that
//     no recipient has it, naming the campaign's languages;
//   - a value that is no language tag (a URL edited by hand): 400 naming
//     the languages there are, as an outcome that is none is (page and
//     CSV).
//
// A language of the campaign still lists its recipients, without a note.
func TestRecipientsSayWhyALanguageMatchesNobody(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "langs", N: 12, Locales: []string{"en", "de", "nl", "de-CH"}})
	v := newSite(t, w, false).signIn(t, viewerToken)
	for _, tc := range []struct {
		path string
		code int
		want []string
		not  []string
	}{
		{"/c/langs/recipients?lang=nl", http.StatusOK, []string{"0 matches", `nl is not a language of this campaign: its 3 recipient(s) with locale "nl" were refused`, `href="/c/langs/recipients?outcome=refused"`}, nil},
		{"/c/langs/recipients?lang=NL", http.StatusOK, []string{"0 matches", `NL is not a language of this campaign: its 3 recipient(s) with locale "nl" were refused`}, nil},
		{"/c/langs/recipients?lang=sv", http.StatusOK, []string{"0 matches", "sv is not a language of this campaign: no recipient asked for it. Its languages are de, en."}, []string{"were refused"}},
		{"/c/langs/recipients?lang=de-CH", http.StatusOK, []string{"0 matches", `de-CH is not a language of this campaign: its 3 recipient(s) with locale "de-CH" are sent in de (filter by that language to see them).`}, []string{"no recipient asked", "were refused"}},
		{"/c/langs/recipients?lang=de", http.StatusOK, []string{"6 matches", consoletest.Email(1, "de"), consoletest.Email(3, "de-CH")}, []string{"not a language of this campaign"}},
		{"/c/langs/recipients?lang=de%22%3E%3Cb%3E", http.StatusBadRequest, []string{`"de\"><b>" is not a language tag: filter by one of de, en, or by none.`, `href="/c/langs/recipients"`}, nil},
		{"/c/langs/recipients?lang=en_US%20x&format=csv", http.StatusBadRequest, []string{`"en_US x" is not a language tag`}, nil},
	} {
		t.Run(tc.path, func(t *testing.T) {
			code, body, _ := v.get(tc.path)
			text := html.UnescapeString(body)
			if code != tc.code {
				t.Errorf("GET %s: %d, want %d\n%s", tc.path, code, tc.code, text)
			}
			for _, want := range tc.want {
				if !strings.Contains(text, want) {
					t.Errorf("GET %s does not say %q\n%s", tc.path, want, text)
				}
			}
			for _, not := range tc.not {
				if strings.Contains(text, not) {
					t.Errorf("GET %s says %q\n%s", tc.path, not, text)
				}
			}
		})
	}
}

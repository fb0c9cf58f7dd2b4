package console_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/send"
)

// TestGalleryPartWithoutRecipientIsTheCards: an email's own URL without
// ?r= (/c/CAMPAIGN/gallery/LANG/eml, typed or shared by hand) is the
// message its card shows: the campaign's first recipient of that
// language, as a worker composes it for them. Before, it rendered made-up
// sample data (a message nobody is sent), and, where the sample could not
// render the template, answered 404 saying "the campaign has no recipient
// of this language" of a language with recipients.
func TestGalleryPartWithoutRecipientIsTheCards(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	file := w.Stage(t, consoletest.Spec{Name: "bare", N: 8, Locales: []string{"de", "en"}})
	staged := newSite(t, w, false).signIn(t, viewerToken)
	fileSite := newFileSite(t, w, file)
	for _, tc := range []struct {
		name, path string
		v          *client
	}{
		{"staged", "/c/bare/gallery/en/eml", staged},
		{"campaign file", "/file/gallery/en/eml", fileSite},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, body, _ := tc.v.get(tc.path)
			if code != http.StatusOK {
				t.Fatalf("GET %s: %d, want the en card's message\n%s", tc.path, code, body)
			}
			shown, err := send.Show([]byte(body))
			if err != nil {
				t.Fatalf("GET %s: not a message: %v\n%s", tc.path, err, body)
			}
			if want := "<" + consoletest.Email(1, "en") + ">"; !strings.Contains(shown.To, want) {
				t.Errorf("GET %s: To %q, want the campaign's first en recipient %s (as the en card shows)", tc.path, shown.To, want)
			}
		})
	}
}

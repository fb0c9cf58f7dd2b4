package console_test

import (
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
)

// TestRecipientsRefuseAnOutcomeThatIsNone: the recipients page and its
// CSV, asked for an outcome that is none (a URL typed or edited by hand:
// "failure", "in_doubt"), answer 400 naming the outcomes there are, as
// tidings report --outcome does, rather than "0 matches" (an empty CSV)
// after reading every recipient's outcome, which QA would take for "none
// of them failed".
func TestRecipientsRefuseAnOutcomeThatIsNone(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "outcomes", N: 4})
	v := newSite(t, w, false).signIn(t, viewerToken)
	for _, path := range []string{"/c/outcomes/recipients?outcome=in_doubt", "/c/outcomes/recipients?outcome=in_doubt&format=csv"} {
		code, body, _ := v.get(path)
		text := html.UnescapeString(body)
		if code != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400\n%s", path, code, text)
		}
		for _, want := range []string{`"in_doubt" is not an outcome`, "sent, failed, in-doubt, refused", `href="/c/outcomes/recipients"`} {
			if !strings.Contains(text, want) {
				t.Errorf("GET %s does not say %q\n%s", path, want, text)
			}
		}
	}
	if code, _, _ := v.get("/c/outcomes/recipients?outcome=in-doubt"); code != http.StatusOK {
		t.Errorf("GET of an outcome there is: %d, want 200", code)
	}
}

package console

import "testing"

// TestSafeNextStaysOnTheSite: the page a sign-in returns to is a path of
// this site; anything a browser could read as another site goes to "/"
// ("/\t/evil.example" passed before: browsers drop the tab and go to
// //evil.example).
func TestSafeNextStaysOnTheSite(t *testing.T) {
	for next, want := range map[string]string{
		"/campaigns/c1?tab=gallery": "/campaigns/c1?tab=gallery",
		"/":                         "/",
		"":                          "/",
		"https://evil.example/":     "/",
		"//evil.example":            "/",
		"/\\evil.example":           "/",
		"/\t/evil.example":          "/",
		"/\n/evil.example":          "/",
		"/%09/evil.example":         "/%09/evil.example", // still a path here: the browser does not decode it
		"evil.example":              "/",
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}

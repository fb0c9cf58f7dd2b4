package unsubscribe

import (
	"net/url"
	"testing"
)

// TestIDWithASpaceComesBackFromEveryPlace: the README says
// list_unsubscribe's "{id}, {email} (the only placeholders) are
// URL-escaped", and a List-Unsubscribe link exists to name its recipient.
// Expand escapes both with url.QueryEscape, which writes a space as "+":
// right in an http(s) query, where "+" reads back as a space, but wrong
// in the two other places Check accepts a placeholder in:
// a path (https://altea.example/unsubscribe/{id}), where "+" is a plus,
// and a mailto URL (RFC 6068 decodes percent escapes only, "+" is a plus).
// Found by red team 11: the recipient with id "user 1" (the recipients reader refuses only
// control characters in an id) gets
// a link naming "user+1", who is somebody else or nobody. The cause:
// internal/unsubscribe/unsubscribe.go Expand (url.QueryEscape wherever the
// placeholder stands; url.PathEscape, or %20 for spaces, reads back in
// every position).
func TestIDWithASpaceComesBackFromEveryPlace(t *testing.T) {
	t.Parallel()
	const id = "user 1"
	tests := []struct {
		name, tmpl string
		back       func(u *url.URL) (string, error)
	}{
		{"https query", "https://altea.example/unsubscribe?id={id}", func(u *url.URL) (string, error) {
			return u.Query().Get("id"), nil
		}},
		{"https path", "https://altea.example/unsubscribe/{id}", func(u *url.URL) (string, error) {
			return u.Path[len("/unsubscribe/"):], nil
		}},
		{"mailto subject", "mailto:unsubscribe@altea.example?subject={id}", func(u *url.URL) (string, error) {
			// RFC 6068: hfield values are percent-decoded, nothing more.
			return url.PathUnescape(u.RawQuery[len("subject="):])
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := Check(tt.tmpl); err != nil {
				t.Fatalf("Check: %v", err)
			}
			link := Expand(tt.tmpl, id, "a@altea.example", "")
			u, err := url.Parse(link)
			if err != nil {
				t.Fatalf("%s: %v", link, err)
			}
			got, err := tt.back(u)
			if err != nil || got != id {
				t.Errorf("%s names the id %q (err %v), want %q", link, got, err, id)
			}
		})
	}
}

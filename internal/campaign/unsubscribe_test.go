package campaign

import (
	"strings"
	"testing"
)

// TestListUnsubscribeKnowsOnlyIDAndEmail: list_unsubscribe knows two
// placeholders, {id} and {email} (README, Campaign file reference).
// send.Unsubscribe copies any other brace text as it is, so a typo ({ID},
// {user_id}, an unclosed {id) is accepted by plan and send and goes out
// literally in every recipient's List-Unsubscribe header: one identical,
// useless unsubscribe link for everyone, with no error anywhere. The
// promise is a clear error naming file, line and field.
func TestListUnsubscribeKnowsOnlyIDAndEmail(t *testing.T) {
	t.Parallel()
	base := "name: c\nenvironment: staging\ntemplate: welcome\nrecipients: r.csv\nfrom: a@altea.example\n"
	for _, u := range []string{
		"https://altea.example/unsubscribe?id={ID}",
		"https://altea.example/unsubscribe?id={user_id}",
		"https://altea.example/unsubscribe?id={id",
		"mailto:unsubscribe@altea.example?subject={Email}",
	} {
		_, err := Parse([]byte(base+"list_unsubscribe: \""+u+"\"\n"), "c.yaml")
		if err == nil || !strings.HasPrefix(err.Error(), "c.yaml:6: list_unsubscribe: ") {
			t.Errorf("list_unsubscribe %q: got %v, want an error at c.yaml:6: list_unsubscribe naming the placeholders it knows ({id}, {email})", u, err)
		}
	}
}

// TestListUnsubscribeIsOneURL: a "<" or ">" in list_unsubscribe (a stray
// ">" after {id}, or a second "<URL>" written after the first) is refused
// at its line: the header writes the URL in angle brackets, so a ">" ended
// it early and every message then failed at send time, or carried a second
// URL (red team 40; the wire side is send's
// TestListUnsubscribeTemplateIsOneURIOnTheWire).
func TestListUnsubscribeIsOneURL(t *testing.T) {
	t.Parallel()
	base := "name: c\nenvironment: staging\ntemplate: welcome\nrecipients: r.csv\nfrom: a@altea.example\n"
	for _, tt := range []struct{ u, hint string }{
		{"https://altea.example/unsubscribe?id={id}>", "%3E"},
		{"https://altea.example/unsubscribe?id={id}>, <https://collect.example/c?e={email}", "%3E"},
		{"https://altea.example/<id>?id={id}", "%3C"},
	} {
		_, err := Parse([]byte(base+"list_unsubscribe: \""+tt.u+"\"\n"), "c.yaml")
		if err == nil || !strings.HasPrefix(err.Error(), "c.yaml:6: list_unsubscribe: ") || !strings.Contains(err.Error(), tt.hint) {
			t.Errorf("list_unsubscribe %q: got %v, want an error at c.yaml:6: list_unsubscribe saying to write %s", tt.u, err, tt.hint)
		}
	}
	if _, err := Parse([]byte(base+"list_unsubscribe: \"https://altea.example/u/%3Cx%3E?id={id}\"\n"), "c.yaml"); err != nil {
		t.Errorf("an encoded < and > are refused: %v", err)
	}
}

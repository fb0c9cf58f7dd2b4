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

package doctor

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/suppress"
	"github.com/tidings-mail/tidings/internal/unsubscribe"
)

// Unsubscribe checks the List-Unsubscribe URL campaigns get: tmpl, the
// campaign's (or, when it sets none, environment e's list_unsubscribe),
// as plan and send will: an https URL that names no recipient, or a
// {token} without e's unsubscribe secret, fails here before a send
// refuses it. None, and a link without {token}, pass, saying what they
// mean.
func Unsubscribe(e *environment.Environment, tmpl string) Check {
	const name = "list-unsubscribe"
	refusal := cmp.Or(unsubscribe.Check(tmpl), launch.UnsubscribeRefusal(tmpl, e)) // in plan's and send's words
	switch {
	case tmpl == "":
		return pass(name, "none set (list_unsubscribe): messages carry no List-Unsubscribe header; receivers such as Gmail and Yahoo expect one-click unsubscribe on bulk mail that is not transactional")
	case refusal != nil:
		return fail(name, refusal.Error())
	case unsubscribe.IsWeb(tmpl) && !unsubscribe.UsesToken(tmpl):
		return pass(name, fmt.Sprintf("%q: without {token}, anyone who knows or guesses a recipient's id or address can unsubscribe them; add &token={token} (an HMAC the site checks) to prevent it", tmpl))
	}
	return pass(name, fmt.Sprintf("%q", tmpl))
}

// Suppression reads environment e's suppression lists as plan and send
// will: one that cannot be read, or a bad line, fails here before a send
// refuses it; a list that holds no address is a warning (an export that
// came out empty would suppress nobody without a word).
func Suppression(e *environment.Environment) Check {
	const name = "suppression lists"
	if len(e.SuppressionFiles) == 0 {
		return pass(name, "none (suppression_files): nobody is left out as unsubscribed or bounced")
	}
	l, err := suppress.Load(e.SuppressionFiles)
	if err != nil {
		return fail(name, err.Error())
	}
	var each, empty []string
	for i, f := range l.Files() {
		each = append(each, fmt.Sprintf("%s (%d)", f, l.Size(i)))
		if l.Size(i) == 0 {
			empty = append(empty, f)
		}
	}
	msg := fmt.Sprintf("%d addresses never mailed, from %s", l.Len(), strings.Join(each, ", "))
	if len(empty) > 0 {
		return warn(name, fmt.Sprintf("%s; %s holds no address: if it should (an export that came out empty?), fix it before you send, or it suppresses nobody", msg, strings.Join(empty, ", ")))
	}
	return pass(name, msg)
}

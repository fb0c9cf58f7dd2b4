package nextstep

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tidings-mail/tidings/internal/store"
)

// Paused says, as a sentence of its own, what to do next with campaign c
// of environment env that a pause left as next says (Control.NextOr
// store.NextResume). other is what Store.Format said of c: of a campaign
// staged by a build of another stored format (a *store.FormatError) only
// a pause works from this build, so it says that the resume, and what
// else it names, needs a tidings of the build that staged it, as status
// says that only that build's workers send it; any other (nil, or an
// error reading the format) leaves the hint as it is.
func (f Files) Paused(next store.Next, c, env string, other error) string {
	fe, _ := errors.AsType[*store.FormatError](other)
	h := otherFormat(f.Hint(next, c, env), next, c, env, fe)
	if h == "" {
		return ""
	}
	return strings.ToUpper(h[:1]) + h[1:]
}

// otherFormat is hint h of next for campaign c of environment env as a
// campaign of another stored format (fe) needs it: its resume, and what
// else h names, with a tidings of the build that staged it; h as it is
// when fe is nil, or h is "". Paused and status's hint (HintOf) say it.
func otherFormat(h string, next store.Next, c, env string, fe *store.FormatError) string {
	switch {
	case fe == nil || h == "":
		return h
	case next == store.NextResume:
		return fmt.Sprintf("resume it with a tidings of stored format %s, the build that staged it (this one has format %d and refuses it): tidings resume %s --env %s (or cancel it with that build: tidings cancel %s --env %s --reason ...)",
			store.FormatName(fe.Format), fe.Want, c, env, c, env)
	}
	return fmt.Sprintf("%s. Run them with a tidings of stored format %s, the build that staged it: this one has format %d and refuses all but a pause",
		h, store.FormatName(fe.Format), fe.Want)
}

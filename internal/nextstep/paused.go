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
	h := f.Hint(next, c, env)
	fe, ok := errors.AsType[*store.FormatError](other)
	switch {
	case !ok:
		return strings.ToUpper(h[:1]) + h[1:]
	case next == store.NextResume:
		return fmt.Sprintf("Resume it with a tidings of stored format %s, the build that staged it (this one has format %d and refuses it): tidings resume %s --env %s (or cancel it with that build: tidings cancel %s --env %s --reason ...)",
			store.FormatName(fe.Format), fe.Want, c, env, c, env)
	}
	return fmt.Sprintf("%s%s. Run them with a tidings of stored format %s, the build that staged it: this one has format %d and refuses all but a pause",
		strings.ToUpper(h[:1]), h[1:], store.FormatName(fe.Format), fe.Want)
}

package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/nextstep"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/unsubscribe"
)

// UnsubscribeSecret compares the fingerprint of environment e's
// unsubscribe secret on this machine with the one each campaign of e
// not done or cancelled was staged with (a {token} campaign's meta
// unsub_key), as a worker here would before it sends: per campaign,
// whether this machine's workers send it or pause it, and for those they
// pause what to set (and, of a paused one, the resume to run then). It
// fails when a worker here would pause one. ok is false when no such
// campaign carries a fingerprint, or Redis cannot be read (the Redis
// checks say why).
func UnsubscribeSecret(ctx context.Context, e *environment.Environment) (c Check, ok bool) {
	const name = "unsubscribe secret"
	st, listed, err := campaigns(ctx, e)
	if err != nil {
		return Check{}, false
	}
	defer st.Client().Close()
	here := "none"
	if e.UnsubscribeSecret.IsSet() {
		here = unsubscribe.KeyFingerprint([]byte(e.UnsubscribeSecret.Reveal()))
	}
	var sends, pauses []string
	for _, camp := range listed {
		ctl, err := st.Control(ctx, camp)
		if err != nil || ctl.State.Finished() {
			continue // gone since, or nothing left to send
		}
		m, err := st.Meta(ctx, camp, false)
		if err != nil || m.UnsubscribeKey == "" {
			continue // being staged, or no {token} (or staged before fingerprints): sent unchecked
		}
		if m.UnsubscribeKey == here {
			sends = append(sends, fmt.Sprintf("%s (%s)", camp, ctl.State))
			continue
		}
		fix := "set " + unsubscribe.SecretSettings + " here, and on every worker, to the secret it was staged with (the one send used and the site holds)"
		if ctl.Next() == store.NextResume {
			fix += ", then " + nextstep.Hint(store.NextResume, camp, e.Name)
		}
		pauses = append(pauses, fmt.Sprintf("%s (%s) was staged with key fingerprint %s: this machine's workers would pause it, sending nothing; %s", camp, ctl.State, m.UnsubscribeKey, fix))
	}
	if len(sends)+len(pauses) == 0 {
		return Check{}, false
	}
	msg := fmt.Sprintf("this machine's unsubscribe secret has key fingerprint %s", here)
	if len(sends) > 0 {
		msg += fmt.Sprintf("; this machine's workers send %s: staged with it", strings.Join(sends, ", "))
	}
	if len(pauses) > 0 {
		return fail(name, msg+"; "+strings.Join(pauses, "; ")), true
	}
	return pass(name, msg), true
}

package launch

import (
	"fmt"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/unsubscribe"
	"github.com/tidings-mail/tidings/internal/yamlnode"
)

// UnsubscribeRefusal says why plan and send refuse list_unsubscribe tmpl
// in environment env, or nil: an https URL that names no recipient
// (unsubscribe.NamesRecipient), or a {token} when env has no unsubscribe
// secret (its workers would pause the campaign). No environment (a
// rehearsal that loaded none) needs no secret: its worker uses the
// preview key. Only staging asks it (Plan, and doctor before it): pause,
// cancel, status and the workers of a campaign staged with such a URL
// read it without this check, so an upgrade does not stop them.
func UnsubscribeRefusal(tmpl string, env *environment.Environment) error {
	if err := unsubscribe.NamesRecipient(tmpl); err != nil {
		return err
	}
	if env == nil || env.UnsubscribeSecret.IsSet() || !unsubscribe.UsesToken(tmpl) {
		return nil
	}
	return fmt.Errorf("%q has {token}, and environment %s has no unsubscribe secret to make it: set %s (at least %d random bytes, e.g. openssl rand -base64 32), the same for send and every worker, and give it to the unsubscribe site",
		tmpl, env.Name, unsubscribe.SecretSettings, unsubscribe.MinSecretBytes)
}

// unsubscribeKey is the fingerprint of env's unsubscribe secret when
// campaign c's List-Unsubscribe makes {token} with it, stored with the
// staging so that a worker holding another secret refuses to send; ""
// otherwise (no {token}, or no secret: a rehearsal's preview key).
func unsubscribeKey(c *campaign.Campaign, env *environment.Environment) string {
	if env == nil || !env.UnsubscribeSecret.IsSet() || !unsubscribe.UsesToken(c.ListUnsubscribe) {
		return ""
	}
	return unsubscribe.KeyFingerprint([]byte(env.UnsubscribeSecret.Reveal()))
}

// checkUnsubscribe refuses campaign c's list_unsubscribe (its own, or
// env's that the bundle gave it) as UnsubscribeRefusal does, as a
// *yamlnode.Error at its source: the campaign file's line, else where
// env set it (the config file's line, or TIDINGS_LIST_UNSUBSCRIBE).
func checkUnsubscribe(c *campaign.Campaign, env *environment.Environment) error {
	if err := UnsubscribeRefusal(c.ListUnsubscribe, env); err != nil {
		return unsubscribeError(c, env, err.Error())
	}
	return nil
}

// unsubscribeError is msg about c's list_unsubscribe at its source: the
// campaign file's line, else where env set it.
func unsubscribeError(c *campaign.Campaign, env *environment.Environment, msg string) error {
	if c.Wrote("list_unsubscribe") || env == nil || env.ListUnsubscribe != c.ListUnsubscribe {
		return &yamlnode.Error{File: c.File, Line: c.Line("list_unsubscribe"), Field: "list_unsubscribe", Msg: msg}
	}
	at := env.ListUnsubscribeAt
	if at.Field == "" {
		at.Field = "list_unsubscribe"
	}
	at.Msg = fmt.Sprintf("%s (environment %s's, used by %s, which sets no list_unsubscribe of its own)", msg, env.Name, c.File)
	return &at
}

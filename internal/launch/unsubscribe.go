package launch

import (
	"fmt"

	"github.com/tidings-mail/tidings/internal/campaign"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/unsubscribe"
	"github.com/tidings-mail/tidings/internal/yamlnode"
)

// namesRecipient refuses, as a *yamlnode.Error at its source, the
// list_unsubscribe of campaign c (its own, or env's that the bundle gave
// it) when it names no recipient (unsubscribe.NamesRecipient): at the
// campaign file's line, else where env set it (the config file's line, or
// TIDINGS_LIST_UNSUBSCRIBE). Only Plan asks it, before anything is staged:
// pause, cancel, status and the workers of a campaign staged with such a
// URL read it without this check, so an upgrade does not stop them.
func namesRecipient(c *campaign.Campaign, env *environment.Environment) error {
	if err := unsubscribe.NamesRecipient(c.ListUnsubscribe); err != nil {
		return unsubscribeError(c, env, err.Error())
	}
	return nil
}

// hasTokenSecret refuses, as namesRecipient does, a list_unsubscribe with
// {token} when env, where the campaign is about to be staged, has no
// unsubscribe secret: the workers would pause it. No environment (a
// rehearsal that loaded none) passes: its worker uses the preview key.
// Only Plan asks it, so a campaign staged without {token} is never
// concerned.
func hasTokenSecret(c *campaign.Campaign, env *environment.Environment) error {
	if env == nil || env.UnsubscribeSecret.IsSet() || !unsubscribe.UsesToken(c.ListUnsubscribe) {
		return nil
	}
	return unsubscribeError(c, env, fmt.Sprintf("%q has {token}, and environment %s has no unsubscribe secret to make it: set TIDINGS_UNSUBSCRIBE_SECRET, TIDINGS_UNSUBSCRIBE_SECRET_FILE or the config file's unsubscribe_secret_file (at least %d random bytes, e.g. openssl rand -base64 32), the same for send and every worker, and give it to the unsubscribe site",
		c.ListUnsubscribe, env.Name, unsubscribe.MinSecretBytes))
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

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
	err := unsubscribe.NamesRecipient(c.ListUnsubscribe)
	if err == nil {
		return nil
	}
	if c.Wrote("list_unsubscribe") || env == nil || env.ListUnsubscribe != c.ListUnsubscribe {
		return &yamlnode.Error{File: c.File, Line: c.Line("list_unsubscribe"), Field: "list_unsubscribe", Msg: err.Error()}
	}
	at := env.ListUnsubscribeAt
	if at.Field == "" {
		at.Field = "list_unsubscribe"
	}
	at.Msg = fmt.Sprintf("%v (environment %s's, used by %s, which sets no list_unsubscribe of its own)", err, env.Name, c.File)
	return &at
}

package nextstep

import (
	"context"
	"fmt"
	"strings"

	"github.com/tidings-mail/tidings/internal/store"
)

// UnseenInCanary says, after an approval of campaign c of environment
// env, which languages no canary message of the content approved reached
// (a canary sent before a re-staging changed the templates or catalogs,
// or a language whose canary recipients were not sent), so that QA has
// not seen them in the canary, and what to do; "" when the canary showed
// every language. When the canary cannot be read, it says so, so that
// nobody takes its silence for a canary that showed every language. What `tidings approve` and the
// console's Approve add to their answer.
func UnseenInCanary(ctx context.Context, s *store.Store, c, env string) string {
	langs, err := s.CanarySeen(ctx, c)
	if err != nil {
		return fmt.Sprintf("Warning: the canary could not be read to say which languages it showed (%v): check every language in the campaign's gallery in the console before the next batch goes, and if anything is wrong, pause it: tidings pause %s --env %s --reason ...", err, c, env)
	}
	unseen := store.Unseen(langs)
	if len(unseen) == 0 {
		return ""
	}
	return fmt.Sprintf("Warning: no canary message of the content approved reached %s. QA has not seen them in the canary: check them now in the campaign's gallery in the console (it renders what the workers send), and if anything is wrong, pause it: tidings pause %s --env %s --reason ...",
		strings.Join(unseen, "; "), c, env)
}

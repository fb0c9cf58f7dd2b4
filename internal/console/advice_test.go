package console

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestAdviceNeverPrintsAnEmptyFlag: a console of a campaign file alone has
// no environment; its advice names commands without an --env flag rather
// than with an empty one. Found by red team 10: the advice read
// "tidings doctor --env  says what is wrong".
func TestAdviceNeverPrintsAnEmptyFlag(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ env, want string }{
		{"", "tidings doctor says what is wrong"},
		{"staging", "tidings doctor --env staging says what is wrong"},
	} {
		s := &Server{cfg: Config{Env: tt.env}}
		status, msg := s.advice("c", "", errors.New("dial tcp 127.0.0.1:1: connection refused"))
		if status != http.StatusServiceUnavailable || !strings.Contains(msg, tt.want) || strings.Contains(msg, "--env  ") {
			t.Errorf("env %q: %d %q; want %q", tt.env, status, msg, tt.want)
		}
	}
}

// TestAdviceOfACancelThatLostItsStagingLease: Cancel on a campaign whose
// first staging never finished gives it up (store.dropStaging); when the
// campaign's staging lease ran out while its keys were listed, nothing is
// removed and the store says so (*store.LeaseLostError: a send may be
// staging it now; run the cancel again). The console said "Redis did not
// answer (...): the cancel may not have been applied", which is false on
// both counts: Redis answered, and nothing was applied, for sure. It now
// says what the error says, as a conflict, like a campaign being staged.
func TestAdviceOfACancelThatLostItsStagingLease(t *testing.T) {
	t.Parallel()
	s := &Server{cfg: Config{Env: "staging"}}
	for _, tt := range []struct {
		name string
		err  error
	}{
		{"as the store returns it", fmt.Errorf("cancel altea: %w", &store.LeaseLostError{Campaign: "altea", Lease: 30 * time.Second})},
		{"wrapped again", fmt.Errorf("cancel: %w", fmt.Errorf("cancel altea: %w", &store.LeaseLostError{Campaign: "altea", Lease: 30 * time.Second}))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, msg := s.advice("altea", "cancel", tt.err)
			want := "The staging lease of altea ran out while its keys were listed (Redis or this process stalled for more than 30s), and a send may be staging it now: nothing was removed; run the cancel again (it is refused while a send stages it)."
			if status != http.StatusConflict || msg != want {
				t.Errorf("%d %q;\nwant %d %q", status, msg, http.StatusConflict, want)
			}
		})
	}
}

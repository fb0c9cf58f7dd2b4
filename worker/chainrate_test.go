package worker_test

import (
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/rawsmtp"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestRateLimitedCampaignsNeverChain: a campaign with a rate sends each
// message's MAIL, RCPT and DATA only once the last message's final reply
// is in (its next send waits for a token, which a chained MAIL would
// have run ahead of); a campaign without one writes the next message's
// commands with this one's data (one write a message, send.Conn.SendThen).
// The relay counts the final dots it read with the next commands already
// behind them: with a rate none can be, whatever the timing, since the
// worker has not written them yet.
func TestRateLimitedCampaignsNeverChain(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		rate    string
		chained bool
	}{
		{"rate 200/s", "200/s", false},
		{"unlimited", "unlimited", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			relay := rawsmtp.Start(t, rawsmtp.Options{})
			cfg := relay.Config()
			cfg.Timeout = 10 * time.Second
			e := newEnv(t, nil) // its capture server is not used
			const n = 120
			e.stage(t, opts{n: n, size: n, rate: tc.rate})
			e.startWorker(t, wopts{smtp: &cfg})
			wait.For(t, 2*time.Minute, "the campaign to finish", func() bool { return e.state(t) == store.StateDone })
			if got := relay.Accepted(); got != n {
				t.Fatalf("the relay took %d messages, want %d", got, n)
			}
			ahead := relay.CommandsAhead()
			t.Logf("%s: %d of %d final dots came with the next commands behind them", tc.name, ahead, n)
			if !tc.chained && ahead != 0 {
				t.Errorf("a campaign with rate %s chained %d messages: its next MAIL went before its token", tc.rate, ahead)
			}
			if tc.chained && ahead == 0 {
				t.Errorf("a campaign without a rate chained no message (one write a message is off)")
			}
		})
	}
}

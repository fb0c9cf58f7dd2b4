package redisconn_test

import (
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/freeport"
	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestCampaigns: the completion's list reads a real Redis (none staged:
// an empty list, no error) and gives up on an unreachable one with an
// error, which completion turns into no candidates (cli's
// TestCompletion lists a staged campaign).
func TestCampaigns(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	if got, err := redisconn.Campaigns(t.Context(), env(t, r.URL), 5*time.Second); err != nil || len(got) != 0 {
		t.Errorf("empty Redis: %v, %v; want no campaign and no error", got, err)
	}
	if got, err := redisconn.Campaigns(t.Context(), env(t, "redis://"+freeport.Closed(t)+"/0"), 500*time.Millisecond); err == nil {
		t.Errorf("unreachable Redis: %v and no error", got)
	}
}

package nextstep_test

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/nextstep"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestUnseenInCanarySaysWhenTheCanaryCannotBeRead: an approval whose
// canary cannot be read (Redis gone meanwhile) is not taken for a canary
// that showed every language: the answer says the check did not run and
// what to do.
func TestUnseenInCanarySaysWhenTheCanaryCannotBeRead(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	got := nextstep.UnseenInCanary(context.Background(), store.New(rdb), "altea", "production")
	for _, want := range []string{"could not be read", "gallery", "tidings pause altea --env production"} {
		if !strings.Contains(got, want) {
			t.Errorf("UnseenInCanary = %q, want it to hold %q", got, want)
		}
	}
}

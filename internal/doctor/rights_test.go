package doctor_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/doctor"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestDoctorSaysWhichKeysAndChannelsTheUserLacks: a Redis ACL user limited
// to tidings:* keys (the natural first guess) lacks the rate limiter's
// keys (rate:tidings:*), and one without &asynq:cancel the queue's cancel
// channel. Neither is refused when a command or a worker connects: the
// worker's log says NOPERM at WARN while the campaign does not advance.
// doctor fails "redis rights" for the keys (warns for the channel, which
// only fills the workers' logs with asynq's errors), naming what was
// refused and the rules tidings needs (redisconn.MinimalACL); with
// exactly those rules no Redis check fails or warns.
//
// Found by this red team: doctor passed every Redis check for a user
// with ~tidings:* ~asynq:* &tidings:control, and the campaign then stayed
// running with nothing sent.
func TestDoctorSaysWhichKeysAndChannelsTheUserLacks(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "redis.conf")
	if err := os.WriteFile(path, []byte("appendonly yes\nmaxmemory-policy noeviction\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rd := redistest.StartServer(t, path)
	admin := rd.Client()
	minimal := strings.Fields(redisconn.MinimalACL)
	without := func(rule string) []string {
		var out []string
		for _, r := range minimal {
			if r != rule {
				out = append(out, r)
			}
		}
		return out
	}
	for _, tt := range []struct {
		name   string
		rules  []string
		status string   // of redis rights
		want   []string // in it; none: no check fails or warns
	}{
		{"the documented rules", minimal, "", nil},
		{"no rate limiter keys", without("~rate:tidings:*"), doctor.Fail, []string{"rate:tidings:", "NOPERM"}},
		{"no queue keys", without("~asynq:*"), doctor.Fail, []string{"asynq:", "NOPERM"}},
		{"no cancel channel", without("&asynq:cancel"), doctor.Warn, []string{"asynq:cancel", "NOPERM"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			user := "u-" + strings.ReplaceAll(tt.name, " ", "-")
			args := []any{"ACL", "SETUSER", user, "reset", "on", ">pw-" + user}
			for _, r := range tt.rules {
				args = append(args, r)
			}
			if err := admin.Do(t.Context(), args...).Err(); err != nil {
				t.Fatalf("ACL SETUSER: %v", err)
			}
			e := &environment.Environment{Name: "staging", ClaimWindow: 16, Concurrency: 8,
				Redis: environment.Redis{URL: "redis://" + user + "@" + rd.Options().Addr + "/0", Password: environment.Secret("pw-" + user)}}
			var failed []doctor.Check
			for _, c := range doctor.Redis(t.Context(), e) {
				if c.Status != doctor.Pass && c.Name != "at most once" && c.Name != "in doubt after a crash" {
					failed = append(failed, c)
				}
			}
			if tt.want == nil {
				if len(failed) > 0 {
					t.Errorf("with the rules tidings needs, doctor fails or warns %+v", failed)
				}
				return
			}
			if len(failed) != 1 || failed[0].Name != "redis rights" || failed[0].Status != tt.status {
				t.Fatalf("doctor's checks not passed %+v; want one, redis rights, %s", failed, tt.status)
			}
			for _, w := range append(tt.want, redisconn.MinimalACL, user) {
				if !strings.Contains(failed[0].Message, w) {
					t.Errorf("redis rights: %q; want it to say %q", failed[0].Message, w)
				}
			}
			if strings.Contains(failed[0].Message, "pw-"+user) {
				t.Errorf("redis rights shows the password: %q", failed[0].Message)
			}
		})
	}
}

package doctor_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/doctor"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/redistest"
)

// noConfigPassword is the password of the Redis user "tidings", which may
// run every command but CONFIG (managed Redis services disable it; an ACL
// `-@admin` or `-config` does the same).
const noConfigPassword = "doctor-test-password-0123456789"

// addNoConfigUser adds that user to the server c talks to.
func addNoConfigUser(t *testing.T, c *redis.Client) {
	t.Helper()
	if err := c.Do(t.Context(), "ACL", "SETUSER", "tidings", "on", ">"+noConfigPassword, "~*", "&*", "+@all", "-config").Err(); err != nil {
		t.Fatalf("ACL SETUSER on %s: %v", c.Options().Addr, err)
	}
}

// TestDoctorWithoutConfigSaysWhatItCannotRead: reached by a Redis user that
// may not run CONFIG (INFO is allowed), doctor states nothing it could not
// read: a setting it cannot read is a WARN saying that it could not be
// read (CONFIG GET refused) and what INFO tells instead, never a verdict
// taken from an empty setting.
//
// Found by a red team: with RDB snapshots on (`save 900 1`) and no AOF,
// CONFIG GET save failed, doctor took the failure for an empty `save` and
// stated `FAIL redis persistence neither AOF nor RDB snapshots are on: a
// restart loses the ledger`: untrue, and a FAIL where it would WARN. The
// same held for appendfsync (read as the everysec wording) and
// min-replicas-to-write (read as unset: "also set min-replicas-to-write").
func TestDoctorWithoutConfigSaysWhatItCannotRead(t *testing.T) {
	t.Parallel()
	single := func(conf string) func(t *testing.T) environment.Redis {
		return func(t *testing.T) environment.Redis {
			path := filepath.Join(t.TempDir(), "redis.conf")
			if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
				t.Fatal(err)
			}
			rd := redistest.StartServer(t, path)
			addNoConfigUser(t, rd.Client())
			return environment.Redis{URL: "redis://tidings@" + rd.Options().Addr + "/0", Password: environment.Secret(noConfigPassword)}
		}
	}
	type want struct{ status, text string }
	for _, tt := range []struct {
		name  string
		redis func(t *testing.T) environment.Redis
		want  map[string]want
	}{
		{"RDB snapshots, no AOF", single("appendonly no\nsave 900 1\nmaxmemory-policy noeviction\n"), map[string]want{
			"redis persistence": {doctor.Warn, "cannot read the persistence settings (CONFIG GET refused: NOPERM"},
		}},
		{"AOF on", single("appendonly yes\nappendfsync everysec\nmaxmemory-policy noeviction\n"), map[string]want{
			"redis persistence": {doctor.Pass, "AOF on"},
			"at most once":      {doctor.Warn, "appendfsync could not be read (CONFIG GET refused: NOPERM"},
		}},
		{"cluster with replicas and min-replicas-to-write 1", func(t *testing.T) environment.Redis {
			cl := redistest.StartCluster(t, redistest.ClusterOptions{AppendOnly: true, ServerConfig: []string{"maxmemory-policy noeviction", "min-replicas-to-write 1"}})
			for _, n := range cl.Nodes() {
				c := n.Client()
				addNoConfigUser(t, c)
				_ = c.Close()
			}
			return environment.Redis{URL: "redis://tidings@127.0.0.1:6379/0", Password: environment.Secret(noConfigPassword), Cluster: cl.Addrs(), MinReplicaAcks: environment.ReplicaAcksAuto}
		}, map[string]want{
			"redis persistence": {doctor.Pass, "AOF on"},
			"at most once":      {doctor.Warn, "min-replicas-to-write could not be read (CONFIG GET refused: NOPERM"},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := &environment.Environment{Name: "staging", ClaimWindow: 16, Concurrency: 8, Redis: tt.redis(t)}
			got := doctor.Redis(t.Context(), e)
			for _, c := range got {
				if c.Name == "redis persistence" && strings.Contains(c.Message, "neither AOF nor RDB snapshots are on") {
					t.Errorf("%s %s %q, while the server has save 900 1 (RDB snapshots on); the user only may not read CONFIG", c.Status, c.Name, c.Message)
				}
				if strings.Contains(c.Message, "also set min-replicas-to-write") || strings.Contains(c.Message, "the last second") {
					t.Errorf("%s %s %q: states a setting it could not read", c.Status, c.Name, c.Message)
				}
				if w, ok := tt.want[c.Name]; ok && (c.Status != w.status || !strings.Contains(c.Message, w.text)) {
					t.Errorf("%s %s %q, want %s with %q", c.Status, c.Name, c.Message, w.status, w.text)
				}
			}
			if len(got) == 0 {
				t.Fatal("no checks")
			}
			t.Logf("checks: %+v", got)
		})
	}
}

// TestDoctorChecksTheControlChannel: pause and cancel reach the workers at
// once through the pub/sub channel tidings:control, which a Redis ACL
// user needs +publish and +subscribe on (&tidings:control; Redis 7 gives a
// new user no channel). Without it commands' announcements are skipped
// and workers fall back to polling: doctor's "redis control channel" line
// warns (sending stays correct), naming the ACL rule to add; with it, it
// passes. Both with ACL DRYRUN and, for a user that may not run ACL, by
// subscribing and publishing.
func TestDoctorChecksTheControlChannel(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "redis.conf")
	if err := os.WriteFile(path, []byte("appendonly yes\nmaxmemory-policy noeviction\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rd := redistest.StartServer(t, path)
	admin := rd.Client()
	for _, tt := range []struct {
		name   string
		rules  []string // the user's ACL rules
		status string
		text   []string
	}{
		{"every channel", []string{"~*", "&*", "+@all"}, doctor.Pass, []string{"may publish and subscribe to tidings:control"}},
		{"the control channel", []string{"~*", "&tidings:control", "+@all"}, doctor.Pass, []string{"may publish and subscribe to tidings:control"}},
		{"no channel", []string{"~*", "+@all"}, doctor.Warn, []string{"ACL DRYRUN: PUBLISH", "SUBSCRIBE", "add the ACL rule +publish +subscribe &tidings:control to user"}},
		{"another channel", []string{"~*", "&other", "+@all"}, doctor.Warn, []string{"ACL DRYRUN: PUBLISH", "add the ACL rule +publish +subscribe &tidings:control"}},
		{"no ACL command, the control channel", []string{"~*", "&tidings:control", "+@all", "-acl"}, doctor.Pass, []string{"may publish and subscribe to tidings:control (tried"}},
		{"no ACL command, no channel", []string{"~*", "+@all", "-acl"}, doctor.Warn, []string{"SUBSCRIBE: NOPERM", "PUBLISH: NOPERM", "add the ACL rule +publish +subscribe &tidings:control"}},
		{"no ACL command, may not subscribe", []string{"~*", "&*", "+@all", "-acl", "-subscribe"}, doctor.Warn, []string{"SUBSCRIBE: NOPERM", "add the ACL rule"}},
	} {
		user := "u-" + strings.NewReplacer(" ", "-", ",", "").Replace(tt.name)
		args := []any{"ACL", "SETUSER", user, "on", ">pw-" + user}
		for _, r := range tt.rules {
			args = append(args, r)
		}
		if err := admin.Do(t.Context(), args...).Err(); err != nil {
			t.Fatalf("%s: ACL SETUSER: %v", tt.name, err)
		}
		e := &environment.Environment{Name: "staging", ClaimWindow: 16, Concurrency: 8,
			Redis: environment.Redis{URL: "redis://" + user + "@" + rd.Options().Addr + "/0", Password: environment.Secret("pw-" + user)}}
		var got *doctor.Check
		checks := doctor.Redis(t.Context(), e)
		for i, c := range checks {
			if c.Name == "redis control channel" {
				got = &checks[i]
			}
		}
		if got == nil {
			t.Errorf("%s: no redis control channel check in %+v", tt.name, checks)
			continue
		}
		t.Logf("%s: %s %q", tt.name, got.Status, got.Message)
		if got.Status != tt.status || !strings.Contains(got.Message, user) {
			t.Errorf("%s: %s %q, want %s naming user %s", tt.name, got.Status, got.Message, tt.status, user)
		}
		for _, w := range tt.text {
			if !strings.Contains(got.Message, w) {
				t.Errorf("%s: %s %q, want %q in it", tt.name, got.Status, got.Message, w)
			}
		}
	}
}

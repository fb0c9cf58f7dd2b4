package doctor_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/doctor"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestDoctorSaysWhatEachAppendfsyncLoses: a single Redis with
// `appendonly yes` says, on its `at most once` line, what a crash of the
// host can lose under each appendfsync setting: nothing with always, the
// last second with everysec, and about the last 30 s with no (the kernel
// writes the file back when it likes: about every 30 s on Linux, per
// Redis's own documentation of the setting), as the README's Guarantees
// table does.
//
// Found by a red team: with `appendfsync no` doctor said the everysec
// sentence, "can lose the last second of them (appendfsync no)",
// understating what a crash of the host can send twice about thirtyfold.
func TestDoctorSaysWhatEachAppendfsyncLoses(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		fsync   string
		status  string
		want    string
		notWant string
	}{
		{"always", doctor.Pass, "every claim is on disk before its message goes to SMTP", ""},
		{"everysec", doctor.Warn, "a crash of the host can lose the last second of them (appendfsync everysec)", ""},
		{"no", doctor.Warn, "a crash of the host can lose the last 30 s or so of them (appendfsync no", "the last second"},
	} {
		t.Run(tt.fsync, func(t *testing.T) {
			t.Parallel()
			conf := filepath.Join(t.TempDir(), "redis.conf")
			if err := os.WriteFile(conf, []byte("appendonly yes\nappendfsync "+tt.fsync+"\nmaxmemory-policy noeviction\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			rd := redistest.StartServer(t, conf)
			e := &environment.Environment{Name: "staging", Redis: environment.Redis{URL: "redis://" + rd.Options().Addr + "/0"}, ClaimWindow: 16, Concurrency: 8}
			for _, ch := range doctor.Redis(t.Context(), e) {
				if ch.Name != "at most once" {
					continue
				}
				if ch.Status != tt.status || !strings.Contains(ch.Message, tt.want) {
					t.Errorf("at most once: %s %q, want %s with %q", ch.Status, ch.Message, tt.status, tt.want)
				}
				if tt.notWant != "" && strings.Contains(ch.Message, tt.notWant) {
					t.Errorf("at most once: %s %q: with appendfsync no the kernel flushes the AOF about every 30 s, not every second", ch.Status, ch.Message)
				}
				return
			}
			t.Fatal("no 'at most once' check")
		})
	}
}

package golden_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tidings-mail/tidings/internal/golden"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }
func (r *recorder) Fatal(...any)          { r.failed = true }

func TestCheck(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "out.golden")
	if err := os.WriteFile(path, []byte("same\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path, got string
		fails     bool
	}{
		{path, "same\n", false},
		{path, "other\n", true},
		{filepath.Join(t.TempDir(), "missing.golden"), "x", true},
	} {
		r := &recorder{TB: t}
		golden.Check(r, tt.path, tt.got)
		if r.failed != tt.fails {
			t.Errorf("Check(%s, %q) failed = %v, want %v", filepath.Base(tt.path), tt.got, r.failed, tt.fails)
		}
	}
}

package launch_test

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/launch"
)

// TestMissingDeliveriesPathSaysWhatToGive (README walk-through): a path
// given to --exclude-delivered or report --journal that does not exist was
// answered with the raw "stat ...: no such file or directory", at the
// moment an operator recovers from a state loss. It now names the path and
// what to give instead, and is still fs.ErrNotExist.
func TestMissingDeliveriesPathSaysWhatToGive(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "journal")
	_, err := launch.LoadDelivered("altea", []string{missing})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "read deliveries: "+missing+" does not exist") ||
		!strings.Contains(err.Error(), "give a delivery journal directory") {
		t.Errorf("LoadDelivered of a missing path: %v", err)
	}
	_, err = journal.Files(missing, "altea")
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "read journal: "+missing+" does not exist") ||
		!strings.Contains(err.Error(), "the directory of campaign altea in it") {
		t.Errorf("journal.Files of a missing path: %v", err)
	}
	// Said once (red team: "does not exist (file does not exist)").
	for _, err := range []error{err, errOf(launch.LoadDelivered("altea", []string{missing}))} {
		if n := strings.Count(err.Error(), "not exist"); n != 1 {
			t.Errorf("%q says %d times that the path does not exist, want once", err, n)
		}
	}
}

func errOf[T any](_ T, err error) error { return err }

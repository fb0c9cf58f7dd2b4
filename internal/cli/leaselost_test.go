package cli

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestALostStagingLeaseIsInfrastructure: a cancel giving up a first
// staging that lost the campaign's staging lease (store.LeaseLostError:
// Redis or the process stalled; nothing removed) exits 3, as a campaign
// being staged does, not 2 (nothing for the user to fix but to run it
// again), and says to run the cancel again.
func TestALostStagingLeaseIsInfrastructure(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	err := fmt.Errorf("cancel altea: %w", &store.LeaseLostError{Campaign: "altea", Lease: 30 * time.Second})
	if code := exitCode(err, &stderr); code != exitInfra || !strings.Contains(stderr.String(), "nothing was removed; run the cancel again") {
		t.Errorf("exit %d, stderr %q; want %d and the cancel to be run again", code, stderr.String(), exitInfra)
	}
}

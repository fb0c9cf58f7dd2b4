package cli

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestARedisThatStopsAnsweringIsInfrastructure: Redis frozen mid-command
// (a send staging 200,000 recipients when redis-server got SIGSTOP) made
// go-redis return a bare read timeout (*poll.DeadlineExceededError, as
// redisconn's TestAFrozenServerDoesNotAnswer shows with a real server),
// and the command exited 2, as if the recipients file were wrong ("plan
// big.csv line 128001: stage big1: i/o timeout"). It is infrastructure:
// exit 3, saying that Redis did not answer.
func TestARedisThatStopsAnsweringIsInfrastructure(t *testing.T) {
	t.Parallel()
	for _, err := range []error{
		fmt.Errorf("plan big.csv line 128001: stage big1: %w", os.ErrDeadlineExceeded),
		fmt.Errorf("read status of lab2: %w", os.ErrDeadlineExceeded),
	} {
		var stderr bytes.Buffer
		if code := exitCode(err, &stderr); code != exitInfra || !strings.Contains(stderr.String(), "Redis did not answer") {
			t.Errorf("%v: exit %d, stderr %q; want %d, saying that Redis did not answer", err, code, stderr.String(), exitInfra)
		}
	}
}

package worker

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/store"
)

// reply is an error reply as Redis sends it (go-redis's redis.Error).
type reply string

func (r reply) Error() string { return string(r) }
func (reply) RedisError()     {}

// TestRetryDelayOfAChunkHeldByRedis: a chunk task that ends in Redis's
// state of the moment (a Cluster failing over or moving a slot, a write
// refused until a replica is back, Redis unreachable, a step not
// acknowledged) runs again within heldRetry however often it ended so
// before, and does not count toward its retries: backed off as a failure
// (2^n s, up to 30 s from the fifth), the chunks that a master killed for
// a minute had interrupted came back up to 30 s after the campaign had
// gone on (a second stall of 19 s measured). Other errors still back off,
// and the refusals and holds that have their own poll keep it.
func TestRetryDelayOfAChunkHeldByRedis(t *testing.T) {
	t.Parallel()
	wrap := func(err error) error { return fmt.Errorf("ledger step c: %w", err) }
	held := []error{
		reply("NOREPLICAS Not enough good replicas to write."),
		reply("READONLY You can't write against a read only replica."),
		reply("CLUSTERDOWN The cluster is down"),
		reply("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."),
		reply("MOVED 3999 127.0.0.1:6381"),
		reply("TRYAGAIN Multiple keys request during rehashing of slot"),
		reply("LOADING Redis is loading the dataset in memory"),
		reply("OOM command not allowed when used memory > 'maxmemory'."),
		&store.AckError{Got: 0, Want: 1},
		&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED},
		io.EOF,
		os.ErrDeadlineExceeded,
	}
	for _, err := range held {
		for _, e := range []error{err, wrap(err)} {
			for _, n := range []int{0, 1, 4, 5, 9, 999} {
				if d := retryDelay(n, e, nil); d != heldRetry {
					t.Errorf("retryDelay(%d, %v) = %s, want %s", n, e, d, heldRetry)
				}
			}
			if isFailure(e) {
				t.Errorf("isFailure(%v) = true, want false: Redis's state, not the chunk's", e)
			}
		}
	}
	for _, tt := range []struct {
		err     error
		n       int
		want    time.Duration
		failure bool
	}{
		{errors.New("decode chunk 3: unexpected end of JSON input"), 0, time.Second, true},
		{errors.New("decode chunk 3: unexpected end of JSON input"), 2, 4 * time.Second, true},
		{wrap(errors.New("journal: write: no space left on device")), 5, 30 * time.Second, true},
		{reply("ERR Error running script (call to f_1): wrong number of arguments"), 3, 8 * time.Second, true},
		{reply("NOPERM this user has no permissions to run the 'evalsha' command"), 5, 30 * time.Second, true},
		{&retryLater{after: refusedPoll, why: "refused"}, 9, refusedPoll, false},
		{heldLater, 9, evictionPoll, false},
		{errDraining, 9, 0, false},
	} {
		if d := retryDelay(tt.n, tt.err, nil); d != tt.want {
			t.Errorf("retryDelay(%d, %v) = %s, want %s", tt.n, tt.err, d, tt.want)
		}
		if got := isFailure(tt.err); got != tt.failure {
			t.Errorf("isFailure(%v) = %t, want %t", tt.err, got, tt.failure)
		}
	}
}

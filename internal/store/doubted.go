package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// keyDoubted is the SET of the campaigns whose cancel recorded
// recipients in doubt that no worker has counted yet (Doubted).
const keyDoubted = "tidings:doubted"

// noteDoubted lists campaign c among those whose recipients recorded in
// doubt by a cancel a worker counts (Doubted). Cancel calls it once its
// sweep ended, whatever the sweep found: a cancel interrupted after the
// sweep of a chunk and run again finds that chunk's recipients in doubt
// already, not being sent, and must still have them counted.
func (s *Store) noteDoubted(ctx context.Context, c string) error {
	return wrapf(s.rdb.SAdd(ctx, keyDoubted, c).Err(), "list %s among the campaigns with recipients in doubt to count", c)
}

// Doubted lists the campaigns whose cancel recorded recipients in doubt
// (they were being sent: lua/sweep_chunk.lua) that no worker has counted
// yet: no claim finds them again in a cancelled campaign, and their
// claimer, when it died, never learnt their outcome. A worker counts them
// (CountDoubted).
func (s *Store) Doubted(ctx context.Context) ([]string, error) {
	v, err := s.rdb.SMembers(ctx, keyDoubted).Result()
	return v, wrapf(err, "list the campaigns with recipients in doubt to count")
}

// CountDoubted takes, once across every caller, the recipients of
// campaign c that a cancel recorded in doubt and whose claimer cannot
// record them any more: still in doubt under its claim, and its worker
// not among alive (the workers alive: Alive). It returns their numbers by
// language, for the caller to count in doubt. A recipient whose claimer
// is alive is left: its late record may still replace the in-doubt with
// the real outcome, which that worker counts. One whose entry is no
// longer in doubt under that claim (recorded, given back, cleared) is
// dropped uncounted. Once none is left, c is taken out of Doubted.
//
// With too few replica acknowledgements (the write was made on the
// master, a failover could lose it) byLang is nil and err an *AckError:
// counting them then could count them twice, after a failover, as the
// claims a ledger step did not have acknowledged (lua/step.lua's
// DOUBT) are not counted either.
func (s *Store) CountDoubted(ctx context.Context, c string, alive []string) (byLang map[string]int, err error) {
	k := keysFor(c)
	args := make([]any, len(alive))
	for i, w := range alive {
		args[i] = w
	}
	v, ack, err := s.eval(ctx, doubtedScript, []string{k.ledger, k.doubted}, args...)
	if err != nil {
		return nil, fmt.Errorf("count the recipients of %s a cancel recorded in doubt: %w", c, err)
	}
	r, _ := v.([]any)
	left, ok := int64(0), len(r)%2 == 1
	if ok {
		left, ok = r[0].(int64)
	}
	if !ok {
		return nil, fmt.Errorf("count the recipients of %s a cancel recorded in doubt: unexpected answer %v", c, v)
	}
	if ack != nil {
		return nil, fmt.Errorf("count the recipients of %s a cancel recorded in doubt: %w", c, ack)
	}
	byLang = map[string]int{}
	for i := 1; i+1 < len(r); i += 2 {
		lang, _ := r[i].(string)
		n, _ := r[i+1].(int64)
		byLang[lang] += int(n)
	}
	if left == 0 {
		err = s.undoubt(ctx, c)
	}
	return byLang, err
}

// ForgetDoubted takes c, a campaign Redis no longer has (no control), out
// of Doubted unless recipients a cancel recorded in doubt are still noted
// for it (undoubt): nothing is left to count, and each worker would read
// it again at each pass for ever.
func (s *Store) ForgetDoubted(ctx context.Context, c string) error { return s.undoubt(ctx, c) }

// undoubt takes c out of Doubted, and lists it again when a cancel's
// sweep recorded recipients in doubt meanwhile: that sweep lists c after
// writing them (noteDoubted), so either it lists c after this takes it
// out, or this finds them.
func (s *Store) undoubt(ctx context.Context, c string) error {
	if err := s.rdb.SRem(ctx, keyDoubted, c).Err(); err != nil {
		return fmt.Errorf("take %s out of the campaigns with recipients in doubt to count: %w", c, err)
	}
	n, err := s.rdb.HLen(ctx, keysFor(c).doubted).Result()
	if err == nil && n > 0 {
		err = s.noteDoubted(ctx, c)
	}
	return wrapf(err, "take %s out of the campaigns with recipients in doubt to count", c)
}

// stillInFlight counts the recipients a cancel of c recorded in doubt
// while they were being sent (lua/sweep_chunk.lua's doubted hash) whose
// sender has not recorded the outcome yet and still can: their ledger
// entry is still in doubt under the claim the sweep found ("k:<token>"),
// and the worker that made the claim is alive in c's environment (as
// lua/doubted.lua tells them). One whose record came, or whose claim was
// given back, is not; nor is one whose worker is gone (killed: nobody
// sends it or will record it, it stays in doubt), nor one lua/doubted.lua
// took.
func (s *Store) stillInFlight(ctx context.Context, c string) (int, error) {
	k := keysFor(c)
	p := s.rdb.Pipeline()
	notedC := p.HGetAll(ctx, k.doubted)
	envC := p.HGet(ctx, k.meta, "env")
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return 0, fmt.Errorf("count the recipients still being sent: %w", err)
	}
	noted := notedC.Val()
	if len(noted) == 0 {
		return 0, nil
	}
	ws, err := s.Builds(ctx, envC.Val())
	if err != nil {
		return 0, fmt.Errorf("count the recipients still being sent: %w", err)
	}
	alive := map[string]bool{}
	for _, w := range ws {
		alive[w.Worker] = true
	}
	ids := make([]string, 0, len(noted))
	for id := range noted {
		ids = append(ids, id)
	}
	cur, err := s.rdb.HMGet(ctx, k.ledger, ids...).Result()
	if err != nil {
		return 0, fmt.Errorf("count the recipients still being sent: %w", err)
	}
	n := 0
	for i, id := range ids {
		_, tok, _ := strings.Cut(noted[id], "|")
		worker := tok // a claim token is "<worker id>/<number>" (worker/token.go)
		if at := strings.LastIndexByte(tok, '/'); at >= 0 {
			worker = tok[:at]
		}
		e, _ := cur[i].(string)
		if tok != "" && strings.HasPrefix(e, OutcomeInDoubt+"|") && claimOf(e) == tok && alive[worker] {
			n++
		}
	}
	return n, nil
}

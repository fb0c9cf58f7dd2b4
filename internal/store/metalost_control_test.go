package store_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/store"
)

// roundTrips counts the round trips a client makes to Redis: a command,
// or a pipeline (a transaction too), is one.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		r.n.Add(1)
		return next(ctx, cmd)
	}
}

func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		r.n.Add(1)
		return next(ctx, cmds)
	}
}

var _ redis.Hook = (*roundTrips)(nil)

// TestControlsOfCampaignWhoseMetaRedisLostAreRefusedByTheStore: Redis
// lost the meta of a paused campaign (its control stays). The store
// refuses its resume and approve with a *MetaLostError naming the action,
// in the words status says it with (store.MetaLost, MetaLostMeans), and
// writes nothing; before, they were a *TransitionError paused for a
// staging, which its callers had to tell from a first staging
// interrupted by reading Redis again. What follows a pause of it is the
// recovery (PauseNext: NextRecover), never a resume; of a campaign whose
// meta is there it is a resume, read in one round trip, as Format reads
// it: the check of a lost meta costs a pause nothing then.
func TestControlsOfCampaignWhoseMetaRedisLostAreRefusedByTheStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := startRedis(t)
	trips := &roundTrips{}
	rdb.AddHook(trips)
	st := store.New(rdb)
	const c = "c-meta-lost-ctl"
	sum := stage(t, st, c, stageOpts{n: 6, size: 6})
	if r := tick(t, st, c, sum, store.TickParams{}); r.Code != store.TickReleased {
		t.Fatalf("first tick %+v", r)
	}
	already, err := st.Pause(ctx, c, who, "on-call")
	if err != nil {
		t.Fatal(err)
	}
	before := trips.n.Load()
	next, ferr := st.PauseNext(ctx, c, already)
	if n := trips.n.Load() - before; next != store.NextResume || ferr != nil || n != 1 {
		t.Errorf("after the pause of a campaign whose meta is there: %v, %v in %d round trips; want NextResume in 1 (the stored format's read)", next, ferr, n)
	}
	loseMeta(t, st, c, sum.Stage, false)
	if next, err := st.PauseNext(ctx, c, nil); next != store.NextRecover || err != nil {
		t.Errorf("after a pause of a campaign whose meta Redis lost: %v, %v; want NextRecover", next, err)
	}
	ctl, err := st.Pause(ctx, c, who, "again") // paused already: never lost
	if next, _ := st.PauseNext(ctx, c, ctl); err != nil || ctl == nil || next != store.NextRecover {
		t.Errorf("pause again of a campaign whose meta Redis lost: %+v, %v, next %v; want the pause in force and NextRecover", ctl, err, next)
	}
	for action, do := range map[string]func() error{
		"resume":  func() error { _, err := st.Resume(ctx, c, who, ""); return err },
		"approve": func() error { _, err := st.Approve(ctx, c, "", false, who, ""); return err },
	} {
		err := do()
		ml := (*store.MetaLostError)(nil)
		want := "cannot " + action + " " + c + ": " + store.MetaLost + ": " + store.MetaLostMeans
		if !errors.As(err, &ml) || ml.Action != action || ml.Error() != want {
			t.Errorf("%s of a campaign whose meta Redis lost: %v; want a *MetaLostError saying %q", action, err, want)
		}
	}
	if p, err := st.Probe(ctx, c); err != nil || p.State != store.StatePaused {
		t.Errorf("after the refused resume and approve: %+v, %v; want paused", p, err)
	}
}

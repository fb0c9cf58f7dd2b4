package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestGivingUpAStagingHoldsItsLease: the cancel giving up a first staging
// (dropStaging) takes the campaign's staging lease, lists the campaign's
// keys (a SCAN of the master, slow on a large one: here made to last three
// leases by afterScan, the lease made 2 s) and removes them. It used to
// take the lease once, unrenewed: a listing longer than the lease let a
// send begin staging the campaign meanwhile, and the removal then deleted
// what that send wrote. Now the lease is renewed as a staging renews its
// own (a send trying all along is refused), and checked right before the
// removal: a lease lost meanwhile (taken over here by a send, as after a
// stall longer than the lease) removes nothing, and the cancel says so
// (*LeaseLostError) and leaves the send's lease alone. On a real cluster.
func TestGivingUpAStagingHoldsItsLease(t *testing.T) {
	t.Parallel()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{Replicas: -1})
	rdb := cl.ClusterClient()
	ctx := context.Background()
	actor := Actor{Who: "carol", Host: "ops", Env: "test"}
	begin := func(t *testing.T, st *Store, c, who string) (*Stager, error) {
		return st.NewStager(ctx, StageConfig{Campaign: c, Definition: []byte(`{}`), Hash: "h", Env: "test", Who: who, Host: "box", ChunkSize: 7})
	}
	for _, tt := range []struct {
		name string
		// during runs once the cancel listed the keys; it returns the
		// stager of a send that began meanwhile (nil: none could).
		during  func(t *testing.T, st *Store, c string) *Stager
		dropped bool
		wantErr string
	}{
		{"the listing outlives the lease: renewed, a send refused all along", func(t *testing.T, st *Store, c string) *Stager {
			var sent *Stager
			end := time.Now().Add(3 * st.dropLease)
			wait.For(t, time.Minute, "three leases to pass, or a send to begin", func() bool {
				sg, err := begin(t, st, c, "dave")
				if err == nil {
					sent = sg
					return true
				}
				if !errors.As(err, new(*BeingStagedError)) {
					t.Errorf("a send meanwhile: %v; want it refused as being staged", err)
				}
				return time.Now().After(end)
			})
			return sent
		}, true, ""},
		{"the lease lost meanwhile: nothing removed", func(t *testing.T, st *Store, c string) *Stager {
			if err := st.rdb.Del(ctx, keysFor(c).staging).Err(); err != nil { // ran out, as after a stall
				t.Fatal(err)
			}
			sg, err := begin(t, st, c, "dave")
			if err != nil {
				t.Fatalf("a send once the lease ran out: %v", err)
			}
			return sg
		}, false, "cancel lease-lost: the staging lease of lease-lost ran out while its keys were listed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := map[bool]string{true: "lease-renewed", false: "lease-lost"}[tt.dropped]
			st := NewWithConfig(rdb, Config{Env: "test"})
			st.dropLease = 4 * time.Second // renewed every 1.33 s: a renewal may take 2.6 s on a loaded machine
			sg, err := begin(t, st, c, "alice")
			if err != nil {
				t.Fatal(err)
			}
			for i := range 30 {
				if err := sg.Add(ctx, Recipient{Line: i + 2, ID: fmt.Sprint("r", i), Email: fmt.Sprintf("r%d@x.example", i), Lang: "de"}, 0, false); err != nil {
					t.Fatal(err)
				}
			}
			sg.Abort(ctx)
			keysOf := func() []string {
				m, err := rdb.MasterForKey(ctx, keysFor(c).control)
				if err != nil {
					t.Fatal(err)
				}
				ks, _ := m.Keys(ctx, "tidings:{"+c+"}:*").Result()
				slices.Sort(ks)
				return ks
			}
			var sent *Stager
			var began []string // the keys once a send began
			st.afterScan = func() {
				if sent = tt.during(t, st, c); sent != nil {
					began = keysOf()
				}
			}
			done, _, err := st.Cancel(ctx, c, actor, "abandoned")
			if got := fmt.Sprint(err); tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || got[:min(len(got), len(tt.wantErr))] != tt.wantErr) {
				t.Errorf("cancel: %v; want %q", err, tt.wantErr)
			}
			if tt.wantErr != "" && !errors.As(err, new(*LeaseLostError)) {
				t.Errorf("cancel: %T; want a *LeaseLostError", err)
			}
			if done.Dropped != tt.dropped {
				t.Errorf("cancel dropped the staging: %v, want %v", done.Dropped, tt.dropped)
			}
			if tt.dropped != (sent == nil) {
				t.Errorf("a send began staging %s while the cancel gave it up: %v", c, sent != nil)
			}
			if sent == nil {
				return
			}
			// The send's staging is whole: its lease, and every key it had
			// when the cancel went on (nothing removed).
			if ks := keysOf(); !slices.Equal(ks, began) || !slices.Contains(ks, keysFor(c).staging) {
				t.Errorf("after the cancel, the keys of %s are %v; want those of the send staging it, %v, its lease among them", c, ks, began)
			}
			sent.Abort(ctx)
		})
	}
}

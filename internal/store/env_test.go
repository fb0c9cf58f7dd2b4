package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/store"
)

// TestEnvironmentsShareARedis: two environments on one Redis share its
// campaign names; each lists its own campaigns only, and neither controls
// nor re-stages the other's (an *EnvError that names the campaign's
// environment), whatever the other's state.
func TestEnvironmentsShareARedis(t *testing.T) {
	st := store.New(startRedis(t))
	ctx := context.Background()
	for _, c := range []struct{ name, env string }{{"prod-one", "production"}, {"stg-one", "staging"}} {
		sg, err := st.NewStager(ctx, store.StageConfig{Campaign: c.name, Definition: []byte(`{}`), Hash: "h", Env: c.env, Who: "alice", ChunkSize: 7})
		if err != nil {
			t.Fatal(err)
		}
		if err := sg.Add(ctx, store.Recipient{Line: 2, ID: "r0", Email: "r0@x.example", Lang: "de"}, 0, false); err != nil {
			t.Fatal(err)
		}
		if _, err := sg.Finish(ctx, true); err != nil {
			t.Fatal(err)
		}
	}
	for env, want := range map[string]string{"staging": "[stg-one]", "production": "[prod-one]", "": "[prod-one stg-one]", "test": "[]"} {
		if got, err := st.List(ctx, env); err != nil || fmt.Sprint(got) != want {
			t.Errorf("list of %q: %v %v, want %s", env, got, err, want)
		}
	}
	if p, err := st.Probe(ctx, "prod-one"); err != nil || p.Env != "production" {
		t.Errorf("probe: %+v %v, want environment production", p, err)
	}
	stg := store.Actor{Who: "bob", Host: "laptop", Env: "staging"}
	isEnv := func(what string, err error) {
		t.Helper()
		var ee *store.EnvError
		if !errors.As(err, &ee) || ee.Env != "production" || ee.Want != "staging" {
			t.Errorf("%s of production's campaign from staging: %v, want an *EnvError", what, err)
		}
	}
	_, err := st.Pause(ctx, "prod-one", stg, "cleaning up")
	isEnv("pause", err)
	_, _, err = st.Cancel(ctx, "prod-one", stg, "cleaning up")
	isEnv("cancel", err)
	_, err = st.Requeue(ctx, "prod-one", stg, store.RetryScope{})
	isEnv("retry", err)
	_, err = st.NewStager(ctx, store.StageConfig{Campaign: "prod-one", Env: "staging", ResumeExisting: true})
	isEnv("re-stage", err)
	_, err = st.NewStager(ctx, store.StageConfig{Campaign: "prod-one", Env: "staging"})
	isEnv("stage", err)
	if _, err := st.Pause(ctx, "prod-one", store.Actor{Who: "carol", Env: "production"}, "look"); err != nil {
		t.Fatal(err)
	}
	_, err = st.Resume(ctx, "prod-one", stg, "")
	isEnv("resume", err)
	_, err = st.Approve(ctx, "prod-one", "", false, stg, "")
	isEnv("approve", err)
	if s, err := st.Status(ctx, "prod-one"); err != nil || s.State != store.StatePaused || s.Reason != "look" || s.Counts[store.OutcomeCancelled] != 0 {
		t.Errorf("production's campaign: %+v %v, want paused by carol only", s, err)
	}
	// A store of one environment reads none of the other's campaigns, and
	// suggests its own names, never the other's, for a name not found.
	stgStore := store.NewWithConfig(st.Client(), store.Config{Env: "staging"})
	_, err = stgStore.Status(ctx, "prod-one")
	isEnv("status", err)
	_, err = stgStore.Meta(ctx, "prod-one", false)
	isEnv("meta", err)
	for _, tt := range []struct {
		s    *store.Store
		name string
		want string
	}{
		{stgStore, "stg-on", "[stg-one]"},
		{stgStore, "prod-on", "[]"},
		{st, "stg-on", "[]"}, // a store of no environment (a worker's) looks nothing up
	} {
		_, err := tt.s.Status(ctx, tt.name)
		var nf *store.NotFoundError
		if !errors.As(err, &nf) || fmt.Sprint(nf.Similar) != tt.want {
			t.Errorf("status of %s: %v, want a *NotFoundError suggesting %s", tt.name, err, tt.want)
		}
	}
	var nf *store.NotFoundError
	if _, err := stgStore.Pause(ctx, "stg-onee", stg, "x"); !errors.As(err, &nf) || !strings.Contains(err.Error(), `(did you mean "stg-one"?)`) {
		t.Errorf("pause of a mistyped name: %v, want a suggestion", err)
	}
	// Its own environment (and a caller of none) still acts on it.
	if _, err := st.Resume(ctx, "prod-one", store.Actor{Who: "carol", Env: "production"}, ""); err != nil {
		t.Errorf("resume from production: %v", err)
	}
	if _, err := st.Pause(ctx, "stg-one", stg, "mine"); err != nil {
		t.Errorf("pause of staging's own campaign: %v", err)
	}
}

package doctor_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/doctor"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/redistest"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestDoctorWarnsOfWorkersOfAnotherBuild: doctor warns when a worker alive
// in the environment runs a build of another stored format than its own,
// or recorded no build (one before stored formats, which checks nothing);
// workers of its own format pass; with no worker alive there is no check.
func TestDoctorWarnsOfWorkersOfAnotherBuild(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rd := redistest.Start(t)
	st := store.New(rd.Client())
	e := &environment.Environment{Name: "staging", Redis: environment.Redis{URL: rd.URL}}
	builds := func() (doctor.Check, bool) {
		for _, c := range doctor.Redis(ctx, e) {
			if c.Name == "worker builds" {
				return c, true
			}
		}
		return doctor.Check{}, false
	}
	if c, ok := builds(); ok {
		t.Fatalf("no worker alive, yet a check: %+v", c)
	}
	alive := func(w string) {
		t.Helper()
		if err := st.SayAlive(ctx, "staging", w, store.CheckInWindow); err != nil {
			t.Fatal(err)
		}
	}
	alive("w-this")
	if err := st.SayBuild(ctx, "staging", "w-this", "v-this"); err != nil {
		t.Fatal(err)
	}
	if c, ok := builds(); !ok || c.Status != doctor.Pass || !strings.Contains(c.Message, "1 worker(s) alive in staging, all of stored format 1") {
		t.Errorf("workers of this build: %+v, want a pass", c)
	}
	alive("w-other")
	if err := rd.Client().HSet(ctx, store.BuildsKey("staging"), "w-other", "2 v-next").Err(); err != nil { // as a newer build would
		t.Fatal(err)
	}
	alive("w-old") // a build before stored formats records none
	c, ok := builds()
	if !ok || c.Status != doctor.Warn {
		t.Fatalf("workers of other builds: %+v, want a warning", c)
	}
	for _, w := range []string{"worker w-other (version v-next) has stored format 2", "worker w-old records no build", "this tidings has stored format 1", "run workers of one build per environment"} {
		if !strings.Contains(c.Message, w) {
			t.Errorf("the warning lacks %q: %s", w, c.Message)
		}
	}
	if strings.Contains(c.Message, "w-this") {
		t.Errorf("the warning names the worker of this build: %s", c.Message)
	}
}

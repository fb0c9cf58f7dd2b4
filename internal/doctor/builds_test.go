package doctor_test

import (
	"context"
	"fmt"
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
	if c, ok := builds(); !ok || c.Status != doctor.Pass || !strings.Contains(c.Message, fmt.Sprintf("1 worker(s) alive in staging, all of stored format %d", store.StoredFormat)) {
		t.Errorf("workers of this build: %+v, want a pass", c)
	}
	alive("w-other")
	if err := rd.Client().HSet(ctx, store.BuildsKey("staging"), "w-other", fmt.Sprintf("%d v-next", store.StoredFormat+1)).Err(); err != nil { // as a newer build would
		t.Fatal(err)
	}
	alive("w-prev")
	if err := rd.Client().HSet(ctx, store.BuildsKey("staging"), "w-prev", fmt.Sprintf("%d v-prev", store.StoredFormat-1)).Err(); err != nil { // as the build before would
		t.Fatal(err)
	}
	alive("w-old") // a build before stored formats records none
	c, ok := builds()
	if !ok || c.Status != doctor.Warn {
		t.Fatalf("workers of other builds: %+v, want a warning", c)
	}
	for _, w := range []string{fmt.Sprintf("worker w-other (version v-next) has stored format %d", store.StoredFormat+1),
		fmt.Sprintf("worker w-prev (version v-prev) has stored format %d", store.StoredFormat-1), "worker w-old records no build",
		fmt.Sprintf("this tidings has stored format %d", store.StoredFormat), "run workers of one build per environment"} {
		if !strings.Contains(c.Message, w) {
			t.Errorf("the warning lacks %q: %s", w, c.Message)
		}
	}
	if strings.Contains(c.Message, "w-this") {
		t.Errorf("the warning names the worker of this build: %s", c.Message)
	}
}

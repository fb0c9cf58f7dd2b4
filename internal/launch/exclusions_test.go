package launch_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/launch"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestLoadDeliveredNeedsTheExclusionsOfAMarkedRun: the journals of a run
// staged by a recovery from a report (its id ends in
// store.RunExcludedMark) do not hold the deliveries that report recorded,
// so reading them without the recovery's exclusions file (or a report) is
// refused, naming the run and the file to add; with that file, or
// LoadDeliveredFor finding it beside the record in the state dir, they are
// read, and the file's recipients are excluded too, counted as Earlier.
func TestLoadDeliveredNeedsTheExclusionsOfAMarkedRun(t *testing.T) {
	t.Parallel()
	run := "tphr6c-a72901c25304e4c0" + store.RunExcludedMark
	journals := filepath.Join(t.TempDir(), "journal")
	fixture.Write(t, filepath.Join(journals, "alpha", run+".w1.jsonl"),
		`{"at":"2026-12-01T10:00:00Z","campaign":"alpha","run":"`+run+`","id":"c","email":"c@example.org","outcome":"sent"}`+"\n")
	state := t.TempDir()
	exclusions := launch.ExclusionsPath(state, "alpha")
	fixture.Write(t, exclusions, "id,email,outcome,code,response,campaign\n"+
		"a,a@example.org,skipped,already-delivered,sent according to before.csv,alpha\n"+
		"b,b@example.org,skipped,already-delivered,in-doubt according to before.csv,alpha\n")

	_, err := launch.LoadDelivered("alpha", []string{journals})
	var me *launch.ExclusionsMissingError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), run) || !strings.Contains(err.Error(), "alpha.excluded.csv") {
		t.Errorf("LoadDelivered(journals of %s) = %v; want it refused, naming the run and alpha.excluded.csv", run, err)
	}
	if _, err := launch.LoadDeliveredFor(t.TempDir(), "alpha", []string{journals}); !errors.As(err, &me) {
		t.Errorf("LoadDeliveredFor from another machine's state dir: %v; want *ExclusionsMissingError", err)
	}
	for _, tt := range []struct {
		name  string
		load  func() (*launch.Delivered, error)
		early int
	}{
		{"the file given", func() (*launch.Delivered, error) {
			return launch.LoadDelivered("alpha", []string{journals, exclusions})
		}, 0},
		{"the file found beside the record", func() (*launch.Delivered, error) { return launch.LoadDeliveredFor(state, "alpha", []string{journals}) }, 2},
		{"the file found and given", func() (*launch.Delivered, error) {
			return launch.LoadDeliveredFor(state, "alpha", []string{journals, exclusions})
		}, 0},
	} {
		d, err := tt.load()
		if err != nil || d.Sent != 2 || d.InDoubt != 1 || d.Earlier != tt.early {
			t.Errorf("%s: %+v, %v; want a and c sent, b in doubt, %d earlier", tt.name, d, err, tt.early)
			continue
		}
		for _, id := range []string{"a", "b", "c"} {
			if _, ok := d.Match(id, id+"@example.org"); !ok {
				t.Errorf("%s: %s not excluded", tt.name, id)
			}
		}
	}
}

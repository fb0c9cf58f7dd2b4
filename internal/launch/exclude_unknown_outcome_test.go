package launch_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/launch"
)

// TestExcludeRefusesAJournalLineOfAnUnknownOutcome: a journal line whose
// outcome this build does not know ("SENT", edited by hand; "delivered",
// as a newer build could write) was read as "not delivered": its
// recipient was not excluded and would have been mailed again (red team
// fx34d). It is refused, naming the file, the line, the field and the
// value, and what to do.
func TestExcludeRefusesAJournalLineOfAnUnknownOutcome(t *testing.T) {
	t.Parallel()
	for _, outcome := range []string{"SENT", "delivered", " sent", ""} {
		t.Run(outcome, func(t *testing.T) {
			t.Parallel()
			jdir := t.TempDir()
			dir := filepath.Join(jdir, "rt34")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, "r1.w1.jsonl")
			body := `{"at":"2026-01-01T00:00:00Z","campaign":"rt34","run":"r1","id":"ada","email":"ada@x.example","outcome":"sent","worker":"w1"}` + "\n" +
				`{"at":"2026-01-01T00:00:01Z","campaign":"rt34","run":"r1","id":"bob","email":"bob@x.example","outcome":"` + outcome + `","worker":"w1"}` + "\n"
			if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			d, err := launch.LoadDelivered("rt34", []string{jdir})
			if err == nil {
				_, ok := d.Match("bob", "bob@x.example")
				t.Fatalf("LoadDelivered read outcome %q without an error (bob excluded: %v)", outcome, ok)
			}
			le, ok := errors.AsType[*journal.LineError](err)
			if !ok || le.Path != file || le.Line != 2 || le.Field != "outcome" {
				t.Fatalf("LoadDelivered: %v, want a *journal.LineError of %s:2, field outcome", err, file)
			}
			for _, w := range []string{file + ":2:", `field "outcome"`, `"` + outcome + `"`, "this build", "the build that wrote it", "sed -n 2p " + file} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("LoadDelivered: %s\nwant it to say %q", err, w)
				}
			}
		})
	}
}

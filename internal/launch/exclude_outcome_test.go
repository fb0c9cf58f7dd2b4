package launch_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/launch"
)

// TestExcludeReadsOutcomesInAnyCase: a report edited by hand or in a
// spreadsheet ("Sent", "sent ", " In-Doubt") was read without an error, and
// those rows counted as not delivered: they were sent again (red team 8).
// An outcome is read whatever its case and surrounding spaces.
func TestExcludeReadsOutcomesInAnyCase(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "edited.csv")
	body := "id,email,outcome,code,response,campaign\r\n" +
		"a,a@x.example,sent,,,rt8\r\n" +
		"b,b@x.example,Sent,,,rt8\r\n" +
		"c,c@x.example,sent ,,,rt8\r\n" +
		"d,d@x.example, In-Doubt,,,rt8\r\n" +
		"e,e@x.example,Skipped,Already-Delivered,In-doubt according to j.jsonl,rt8\r\n" +
		"f,f@x.example,FAILED,,,rt8\r\n" +
		"g,g@x.example,temp,,,rt8\r\n" + // a journal's word for pending
		",,,,,\r\n" // a row a spreadsheet left empty
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := launch.LoadDelivered("rt8", []string{p})
	if err != nil {
		t.Fatalf("LoadDelivered: %v", err)
	}
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		if _, ok := d.Match(id, id+"@x.example"); !ok {
			t.Errorf("%s, whose outcome in %s says delivered (edited), is not excluded", id, p)
		}
	}
	for _, id := range []string{"f", "g"} {
		if _, ok := d.Match(id, id+"@x.example"); ok {
			t.Errorf("%s, not delivered, is excluded", id)
		}
	}
	if d.Sent != 3 || d.InDoubt != 2 || d.Records != 7 {
		t.Errorf("%d sent, %d in doubt, %d records; want 3, 2 and 7", d.Sent, d.InDoubt, d.Records)
	}
}

// TestExcludeRefusesAnUnknownOutcome: an outcome that is no outcome (a
// typo) was ignored, and its recipient sent again. It is refused with the
// file, line and field, and the outcomes a report has.
func TestExcludeRefusesAnUnknownOutcome(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, body, want string
	}{
		{"a typo", "r.csv", "id,email,outcome\na,a@x.example,sent\nb,b@x.example,snet\n", `r.csv:3: outcome: "snet" is not an outcome: want one of sent, failed, in-doubt,`},
		{"in doubt with a space", "r.csv", "id,email,outcome\na,a@x.example,in doubt\n", `r.csv:2: outcome: "in doubt" is not an outcome`},
		{"an empty outcome", "r.csv", "id,email,outcome\na,a@x.example,\n", `r.csv:2: outcome: "" is not an outcome`},
		{"a JSON report", "r.json", `{"campaign":"rt8","recipients":[{"id":"a","outcome":"sent"},{"id":"b","outcome":"delivered"}]}`, `r.json: recipients[1] (id "b"): outcome: "delivered" is not an outcome`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), tt.file)
			if err := os.WriteFile(p, []byte(tt.body), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := launch.LoadDelivered("rt8", []string{p})
			var oe *launch.OutcomeError
			if !errors.As(err, &oe) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadDelivered: %v, want an OutcomeError containing %q", err, tt.want)
			}
		})
	}
}

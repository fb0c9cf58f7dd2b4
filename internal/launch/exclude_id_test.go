package launch_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tidings-mail/tidings/internal/launch"
)

// TestExcludeOfARowWhoseIDWasDeliveredElsewhere: the deliveries record ids
// and mailboxes. A row matches by either, except that a row whose id was
// delivered to another mailbox, and whose own mailbox was not delivered,
// is an *IDDeliveredError: skipped, its address would never be mailed.
func TestExcludeOfARowWhoseIDWasDeliveredElsewhere(t *testing.T) {
	t.Parallel()
	report := filepath.Join(t.TempDir(), "r.csv")
	if err := os.WriteFile(report, []byte("line,id,email,outcome\n"+
		"2,u1,ada@x.example,sent\n"+
		"3,u2,bob@x.example,in-doubt\n"+
		"4,u3,,sent\n"+ // a journal line that named no address
		"5,u4,Dee@X.example,sent\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := launch.LoadDelivered("launch-test", []string{report})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id, email  string
		skip, fail bool
	}{
		{"u1", "ada@x.example", true, false},
		{"u1", "ADA@x.example", true, false},  // the same mailbox
		{"u9", "ada@x.example", true, false},  // her mailbox, another id
		{"u1", "zed@x.example", false, true},  // u1 went to ada
		{"u2", "zed@x.example", false, true},  // in doubt counts too
		{"u2", "dee@x.example", true, false},  // dee's own mailbox was delivered
		{"u3", "zed@x.example", true, false},  // no address to compare: by id
		{"u9", "zed@x.example", false, false}, // nobody's
		{"u4", "dee@x.example", true, false},
	}
	for _, tt := range tests {
		_, skip, err := d.Exclude(tt.id, tt.email)
		var ide *launch.IDDeliveredError
		if skip != tt.skip || errors.As(err, &ide) != tt.fail {
			t.Errorf("Exclude(%s, %s) = skip %v, %v; want skip %v, error %v", tt.id, tt.email, skip, err, tt.skip, tt.fail)
		}
	}
}

package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
)

// TestExcludeDeliveredChecksTheIDsOfSkippedRows: `send --resume-existing
// --exclude-delivered` skips the rows the deliveries record, by id or by
// mailbox. Two rows were skipped without the id check every staged row
// gets:
//   - a row whose id the journal records as delivered to another address
//     (user-1, sent as r0-en@, now newcomer@) was skipped as delivered by its
//     id: newcomer@ was never mailed, and nothing said so;
//   - a row skipped because its mailbox was delivered (r0-en@) but under
//     the id of another recipient sent (user-4, r0-de@) overwrote user-4's
//     outcome in the ledger with its own.
//
// Both are refused now, naming the file, line and field and what to do;
// the campaign stays as it was, and once the rows are right everyone is
// mailed once.
func TestExcludeDeliveredChecksTheIDsOfSkippedRows(t *testing.T) {
	t.Parallel()
	rows := rowsIn(3, "en", "de") // user-1 r0-en and user-4 r0-de are the canary
	var recipients string
	write := func(ids []string, emails map[int]string) {
		var out []string
		for i, r := range rows {
			if e, ok := emails[i]; ok {
				r = e + r[strings.IndexByte(r, ','):]
			}
			out = append(out, ids[i]+","+r)
		}
		fixture.Write(t, recipients, "id,email,name,locale,posts\n"+strings.Join(out, "\n")+"\n")
	}
	own := []string{"user-1", "user-2", "user-3", "user-4", "user-5", "user-6"}
	c := canaryCancelled(t, "skipids", rows, func(path string) {
		recipients = path
		write(own, nil)
	})
	env, smtp, file := c.env, c.smtp, c.file
	// The workers' journals: user-1 (r0-en@) and user-4 (r0-de@) sent.
	jdir := filepath.Join(env["TIDINGS_STATE_DIR"], "journal")
	send := func() result {
		return cli(t, env, "send", file, "--env", "staging", "--resume-existing", "--exclude-delivered", jdir, "--rejects", filepath.Join(t.TempDir(), "rejects.csv"))
	}

	write(own, map[int]string{0: "newcomer@example.org"})
	r := send()
	if r.code != 1 {
		t.Fatalf("send with user-1 given to newcomer@: want exit 1 (an invalid row)\n%s", r)
	}
	contains(t, "the refusal of user-1", r.stdout, recipients+`:2: id: id "user-1" was delivered to r0-en@example.org`, "not to newcomer@example.org", "give it an id of its own")
	contains(t, "the refusal of user-1", r.stderr, "not sending: 1 invalid")

	// r0-en@ (delivered, so skipped) under user-4, the id r0-de@ was sent
	// under; user-4's row takes another id.
	ids := []string{"user-4", "user-2", "user-3", "user-9", "user-5", "user-6"}
	write(ids, nil)
	if r = send(); r.code != 2 {
		t.Fatalf("send with r0-en@ under user-4: want exit 2\n%s", r)
	}
	contains(t, "the refusal of user-4", r.stderr, recipients+`:2: id: "user-4" was staged before for r0-de@example.org, whose outcome is sent; this row is r0-en@example.org`, "Nothing was started")
	if st := status(t, env, "skipids"); st.State != "cancelled" {
		t.Errorf("after the refusals the campaign is %s, want cancelled as it was", st.State)
	}

	// Each row right: newcomer@ under an id of its own, r0-en@ as user-1.
	rows = append(rows, "newcomer@example.org,N,en,1")
	write([]string{"user-1", "user-2", "user-3", "user-4", "user-5", "user-6", "user-7"}, nil)
	if r = send(); r.code != 0 {
		t.Fatalf("send with every id right\n%s", r)
	}
	per := c.approveToDone(t, "skipids")
	if per["newcomer@example.org"] != 1 || per["r0-en@example.org"] != 1 || per["r0-de@example.org"] != 1 || smtp.Count() != len(rows) {
		t.Errorf("%d messages (want %d), per address %v", smtp.Count(), len(rows), per)
	}
	for to, n := range per {
		if n > 1 {
			t.Errorf("%s received %d messages", to, n)
		}
	}
}

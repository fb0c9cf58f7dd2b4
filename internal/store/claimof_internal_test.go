package store

import "testing"

// TestClaimOf: the token of the claim a ledger entry holds, read from
// its state and flag: a recipient being sent holds its claim's token as
// its response; one kept in doubt holds it in its flag ("k:<token>"); no
// other entry holds one.
func TestClaimOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ entry, want string }{
		{"sending|1|1700000000000|||tok1", "tok1"},
		{"in-doubt|1|1700000000000||k:tok2|left sending by an earlier run", "tok2"},
		{"in-doubt|1|1700000000000||k:|no token", ""},
		{"in-doubt|1|1700000000000|||no reply after the data", ""},
		{"in-doubt|1|1700000000000||t|k:tok3 in the response", ""},
		{"failed|1|1700000000000|550|k:tok4|refused", ""},
		{"sent|1|1700000000000|250|k:tok5|ok", ""},
		{"deferred|1|1700000000000|451|t|try later", ""},
		{"sending", ""},
		{"", ""},
	} {
		if got := claimOf(tc.entry); got != tc.want {
			t.Errorf("claimOf(%q) = %q, want %q", tc.entry, got, tc.want)
		}
	}
}

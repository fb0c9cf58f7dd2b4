package cli

import (
	"strings"
	"testing"
)

// TestApproveWithoutACanary: a campaign whose file asks for no canary
// (canary_per_locale 0) has nothing to approve. On-call running `tidings
// approve` on it was told "its canary (the first batch) is still being
// sent, or not yet released ... or add --in-advance", about a canary it
// does not have; it is told so, exit 1, nothing changed.
func TestApproveWithoutACanary(t *testing.T) {
	t.Parallel()
	env, _ := redisEnv(t)
	file := writeCampaign(t, campaignFile{name: "nocanary", rows: []string{"ada@example.org,Ada,en,1", "juerg@example.org,Jürg,de-CH,3"}})
	if r := cli(t, env, "send", file, "--env", "staging"); r.code != 0 {
		t.Fatalf("send\n%s", r)
	}
	r := cli(t, env, "approve", "nocanary", "--env", "staging")
	want := "cannot approve nocanary: it has no canary (its campaign file's batches.canary_per_locale is 0), so there is nothing to approve: its batches go as planned; nothing changed"
	if r.code != 1 || !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "still being sent") {
		t.Errorf("approve of a campaign without a canary: want exit 1 saying %q\n%s", want, r)
	}
	if st := status(t, env, "nocanary"); st.State != "running" || st.Audit[len(st.Audit)-1].Action == "approve" {
		t.Errorf("after the refused approval: state %s, audit %+v; want running, no approval recorded", st.State, st.Audit)
	}
}

package cli

import (
	"strings"
	"testing"
)

// TestSecondCancelSaysAlreadyCancelled: a second `tidings cancel` of a
// cancelled campaign (two on-call engineers, or one running the command
// again to be sure) changes nothing and records nothing, as a second pause
// does: it says whose cancel holds, when and why, that nothing changed and
// that its reason is not recorded, and never "Cancelled". The audit log
// keeps the first cancel only. (TestControlCommands: a second resume or
// approve says the same.)
func TestSecondCancelSaysAlreadyCancelled(t *testing.T) {
	t.Parallel()
	env, _ := redisEnv(t)
	c := stageCampaign(t, env, "c2x")
	if r := cli(t, env, "cancel", c, "--env", "staging", "--reason", "wrong recipients file"); r.code != 0 {
		t.Fatalf("first cancel\n%s", r)
	}
	r := cli(t, env, "cancel", c, "--env", "staging", "--reason", "legal asked us to stop")
	if r.code != 0 {
		t.Fatalf("second cancel\n%s", r)
	}
	for _, want := range []string{c + " was already cancelled by ", " (wrong recipients file): nothing changed, and this reason is not recorded."} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the second cancel does not say %q:\n%s", want, r)
		}
	}
	if strings.HasPrefix(r.stdout, "Cancelled ") {
		t.Errorf("the second cancel says it cancelled although it changed nothing:\n%s", r)
	}
	st := status(t, env, c)
	var reasons []string
	for _, a := range st.Audit {
		if a.Action == "cancel" {
			reasons = append(reasons, a.Reason)
		}
	}
	if len(reasons) != 1 || reasons[0] != "wrong recipients file" {
		t.Errorf("audit log's cancels: %q, want the first one only", reasons)
	}
}

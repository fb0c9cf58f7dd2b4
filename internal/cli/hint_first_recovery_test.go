package cli

import (
	"regexp"
	"strings"
	"testing"
)

// TestFirstStagingHintSaysTheRecoveryFlags: Redis lost a campaign this
// host sent (its start record stays), and the recovery send (run with
// --resume-existing and --exclude-delivered, or --none-delivered) was
// interrupted in its staging, a first staging since Redis has no
// definition of it. resume's refusal says to run that send again as it
// was; the command it names from the start record, pasted as it is, is
// refused (Redis has no trace of a campaign this host started: the
// recovery's flags are missing, and the start record does not keep
// them), so the refusal must say that those flags are to be added. It
// gave the file and the recorded flags alone, "as it was".
func TestFirstStagingHintSaysTheRecoveryFlags(t *testing.T) {
	t.Parallel()
	env, rd := redisEnv(t)
	ctx := t.Context()
	file := writeCampaign(t, campaignFile{name: "lostfirst", rows: []string{"ada@example.org,Ada,en,1"}})
	if r := cli(t, env, "send", file, "--env", "staging", "--skip-refused"); r.code != 0 {
		t.Fatalf("first send\n%s", r)
	}
	// Redis loses it; the recovery's send then begins its staging (no
	// definition yet) and is interrupted.
	keys, err := rd.Client().Keys(ctx, "tidings:*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys: %v, %v", keys, err)
	}
	if err := rd.Client().Del(ctx, keys...).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rd.Client().HSet(ctx, "tidings:{lostfirst}:control", "state", "staged", "stage", "s9").Err(); err != nil {
		t.Fatal(err)
	}
	r := cli(t, env, "resume", "lostfirst", "--env", "staging")
	m := regexp.MustCompile(`run it again as it was: (tidings send [^,(]*?)(,| \()`).FindStringSubmatch(r.stderr)
	if r.code != 1 || m == nil || !strings.Contains(m[1], "--skip-refused") {
		t.Fatalf("resume during the interrupted first staging: want exit 1 and the send to run again, with its file and flags\n%s", r)
	}
	// The command alone does not do it: it is refused.
	if p := paste(t, env, m[1]); p.code == 0 || !strings.Contains(p.stderr, "Redis has no trace of it") {
		t.Fatalf("the command alone (%s): want it refused as a state loss\n%s", m[1], p)
	}
	for _, flag := range []string{"--resume-existing", "--exclude-delivered", "--none-delivered"} {
		if !strings.Contains(r.stderr, flag) {
			t.Errorf("resume's refusal does not say to add %s, which the start record does not keep, to %q\n%s", flag, m[1], r)
		}
	}
}

package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestControlOfAnotherStoredFormat: this build's pause stops a campaign
// staged by a build of another stored format (on-call can always stop a
// send), while its resume, approve, cancel and retry refuse it, exit 2,
// naming both formats and what to run, changing nothing; pause and
// status say to resume it with a tidings of the build that staged it.
func TestControlOfAnotherStoredFormat(t *testing.T) {
	t.Parallel()
	env, _ := sendOfNewerFormat(t, "ctl-format")
	r := cli(t, env, "pause", "ctl-format", "--env", "staging", "--reason", "errors from the relay")
	if r.code != 0 || !strings.Contains(r.stdout, "Paused ctl-format.") {
		t.Fatalf("pause of a campaign of a newer stored format: want it paused\n%s", r)
	}
	// What it says next is what works: this build refuses its resume.
	if want := "Resume it with a tidings of stored format " + newerFormat + ", the build that staged it (this one has format " + thisFormat + " and refuses it): tidings resume ctl-format --env staging"; !strings.Contains(r.stdout, want) || strings.Contains(r.stdout, "Resume with:") {
		t.Errorf("pause of a campaign of a newer stored format: want %q, not this build's resume\n%s", want, r)
	}
	// status's next step says the same, not this build's resume.
	r = cli(t, env, "status", "ctl-format", "--env", "staging")
	if want := "resume it with a tidings of stored format " + newerFormat + ", the build that staged it (this one has format " + thisFormat + " and refuses it): tidings resume ctl-format --env staging"; r.code != 0 || !strings.Contains(r.stdout, want) || strings.Contains(r.stdout, "resume with:") {
		t.Errorf("status of a paused campaign of a newer stored format: want %q, not this build's resume\n%s", want, r)
	}
	read := func() formatJSON {
		t.Helper()
		r := cli(t, env, "status", "ctl-format", "--env", "staging", "--json")
		if r.code != 0 || !strings.Contains(r.stdout, `"state":"paused"`) {
			t.Fatalf("status --json: want paused\n%s", r)
		}
		var st formatJSON
		if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	before := read()
	for _, args := range [][]string{
		{"resume", "ctl-format"}, {"approve", "ctl-format", "--in-advance"},
		{"cancel", "ctl-format", "--reason", "give up"}, {"retry", "ctl-format", "--permanent"},
	} {
		r := cli(t, env, append(args, "--env", "staging")...)
		if r.code != 2 {
			t.Errorf("%s of a campaign of a newer stored format: exit %d, want 2\n%s", args[0], r.code, r)
		}
		for _, want := range []string{
			args[0] + " ctl-format: campaign ctl-format was staged by a build with stored format " + newerFormat + "; this tidings has format " + thisFormat,
			args[0] + " it with a tidings of the build that staged it (stored format " + newerFormat + ")", "a pause works from any build",
		} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("%s: the refusal lacks %q\n%s", args[0], want, r)
			}
		}
		if after := read(); after.Stage != before.Stage || len(after.Audit) != len(before.Audit) {
			t.Errorf("the refused %s changed the campaign: %d audit entries, before %d", args[0], len(after.Audit), len(before.Audit))
		}
	}
}

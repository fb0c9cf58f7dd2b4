package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestRecoveryWithoutJournals plays the operator after Redis lost a
// campaign (FLUSHALL), pasting the commands tidings prints. Found in the
// drills: with no worker ever run, the refusal's step 2 (--exclude-delivered
// JOURNAL_DIR), pasted, failed with exit 2 "read deliveries: <dir> holds
// no delivery journal of campaign big2" and said nothing of what to do.
// An empty journal must still never count as "nobody was sent" (the
// operator may have forgotten to copy the worker hosts' journals): it
// refuses, and says both ways forward, each pasteable: copy the journals
// and run the same send again, or, when no worker ever sent it, the send
// with --none-delivered. Either way everyone is sent exactly once.
func TestRecoveryWithoutJournals(t *testing.T) {
	tests := []struct {
		name string
		// worker: a worker sent the canary before the loss (its journal is
		// on another host than the one the operator sends from).
		worker bool
	}{
		{name: "no worker ever sent it: --none-delivered"},
		{name: "the worker's journal not copied yet: refused, then copied", worker: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			name := "nojournal-" + string(rune('a'+i))
			renv, rd := redisEnv(t)
			if rd.Embedded {
				t.Skip("Wipe needs a real redis-server")
			}
			smtp := startSMTP(t, smtpcapture.Config{})
			workerEnv := merge(renv, smtpEnv(smtp), map[string]string{"TIDINGS_JOURNAL_DIR": filepath.Join(t.TempDir(), "worker-journal")})
			opsEnv := merge(workerEnv, map[string]string{"TIDINGS_JOURNAL_DIR": filepath.Join(t.TempDir(), "ops", "journal")})
			rows := rowsIn(3, "en", "de")
			file := writeCampaign(t, campaignFile{name: name, rows: rows,
				batches: "  canary_per_locale: 1\n  approve_after_canary: true\n  interval: 0s"})
			if r := cli(t, opsEnv, "send", file, "--env", "staging", "--rejects", filepath.Join(filepath.Dir(file), "rejects.csv")); r.code != 0 {
				t.Fatalf("first send\n%s", r)
			}
			if tt.worker {
				stop, log := startWorker(t, workerEnv)
				waitState(t, workerEnv, name, "awaiting-approval", log)
				stop()
			}
			if err := rd.Wipe(t.Context()); err != nil {
				t.Fatal(err)
			}

			r := cli(t, opsEnv, "send", file, "--env", "staging")
			if r.code != 1 || !strings.Contains(r.stderr, "Redis lost its state") {
				t.Fatalf("send after the loss: want the state-loss refusal\n%s", r)
			}
			none := regexp.MustCompile(`(?m)^If no worker host has a <journal dir>/` + name + `/ .*\n  (tidings send .*--none-delivered.*)$`).FindStringSubmatch(r.stderr)
			if none == nil {
				t.Fatalf("the refusal does not say what to run when no worker ever sent it\n%s", r)
			}
			if mk := regexp.MustCompile(`mkdir -p (\S+);`).FindStringSubmatch(r.stderr); mk != nil {
				if err := os.MkdirAll(mk[1], 0o755); err != nil {
					t.Fatal(err)
				}
			}
			step2 := regexp.MustCompile(`(?m)^  2\. (tidings send .*)$`).FindStringSubmatch(r.stderr)
			if step2 == nil {
				t.Fatalf("no step 2 in the refusal\n%s", r)
			}
			// Step 2 pasted with no journal copied: refused, never staged
			// as "nobody sent", and says both ways forward.
			r = paste(t, opsEnv, step2[1])
			again := regexp.MustCompile(`(?m)^  Once the journals are copied, run again: (tidings send .*)$`).FindStringSubmatch(r.stderr)
			noneToo := regexp.MustCompile(`(?m)^  If no worker ever sent it, run instead:  (tidings send .*)$`).FindStringSubmatch(r.stderr)
			into := regexp.MustCompile(`\(<journal dir>/` + name + `/ on each\) into (\S+) \(mkdir`).FindStringSubmatch(r.stderr)
			if r.code != 2 || !strings.Contains(r.stderr, "holds no delivery journal of campaign "+name) || again == nil || noneToo == nil || into == nil {
				t.Fatalf("step 2 pasted with no journal copied: want refused (exit 2) with both ways forward\n%s", r)
			}
			if strings.Contains(r.stdout, "Staged ") {
				t.Fatalf("step 2 with no journal staged the campaign\n%s", r)
			}
			if tt.worker {
				// On the worker's host, whose journal holds the canary,
				// --none-delivered is refused.
				if r := paste(t, workerEnv, noneToo[1]); r.code != 1 || !strings.Contains(r.stderr, "--none-delivered is refused") {
					t.Fatalf("--none-delivered where the journal holds deliveries: want refused\n%s", r)
				}
				copyFiles(t, filepath.Join(workerEnv["TIDINGS_JOURNAL_DIR"], name), into[1])
				if r := paste(t, opsEnv, again[1]); r.code != 0 || !strings.Contains(r.stdout, "Staged ") {
					t.Fatalf("the same send once the journal is copied (%s)\n%s", again[1], r)
				}
			} else if r := paste(t, opsEnv, none[1]); r.code != 0 || !strings.Contains(r.stdout, "Staged ") {
				t.Fatalf("the refusal's --none-delivered send pasted (%s)\n%s", none[1], r)
			}

			stop, log := startWorker(t, workerEnv)
			defer stop()
			waitState(t, workerEnv, name, "awaiting-approval", log)
			if r := cli(t, workerEnv, "approve", name, "--env", "staging"); r.code != 0 {
				t.Fatalf("approve\n%s", r)
			}
			waitState(t, workerEnv, name, "done", log)
			receivedOnce(t, smtp, rows)
		})
	}
}

package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestPastedRecoveryCommandsWork plays the operator after Redis lost a
// campaign (FLUSHALL after its canary): every command tidings prints is
// pasted as it is, through a POSIX shell, from another directory than the
// one the campaign was sent from. status's command (the send that
// started it) must reach send's refusal; the refusal's step 1 (making the
// journal's directory when this host has none) and step 2 (the recovery
// send) must work; the campaign then ends with nobody mailed twice,
// everyone accepted mailed once, and every row in the report.
//
// Found in the drills: the commands named the campaign file as it was
// given (campaigns/altea.yaml, relative: 'campaign file ... does not
// exist' from any other directory) or as CAMPAIGN-FILE with "the flags
// it had" (status, which the start record could say); on a host whose
// journal directory does not exist yet (it ran no worker, or a new
// machine), step 1's copy into it failed ('cp: target ... is not a
// directory') and step 2 failed with "read deliveries: ... does not
// exist".
//
// Not parallel: it changes the working directory (t.Chdir).
func TestPastedRecoveryCommandsWork(t *testing.T) {
	tests := []struct {
		name string
		// relative: the first send names the campaign file and its
		// rejects file relative to the working directory.
		relative bool
		// journalElsewhere: the host that sends keeps no journal (its
		// journal.dir does not exist); the worker's is on another host.
		journalElsewhere bool
	}{
		{name: "campaign file given relative, commands pasted in another directory", relative: true},
		{name: "the sending host's journal directory does not exist yet", journalElsewhere: true},
		{name: "both", relative: true, journalElsewhere: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "pasted-" + string(rune('a'+i))
			renv, rd := redisEnv(t)
			if rd.Embedded {
				t.Skip("Wipe needs a real redis-server")
			}
			smtp := startSMTP(t, smtpcapture.Config{})
			workerEnv := merge(renv, smtpEnv(smtp), map[string]string{"TIDINGS_JOURNAL_DIR": filepath.Join(t.TempDir(), "worker-journal")})
			env := workerEnv
			if tt.journalElsewhere {
				env = merge(workerEnv, map[string]string{"TIDINGS_JOURNAL_DIR": filepath.Join(t.TempDir(), "ops", "journal")})
			}
			rows := append(rowsIn(3, "en", "de"), "refused@example.org,R,rm,1")
			file := writeCampaign(t, campaignFile{name: name, rows: rows,
				batches: "  canary_per_locale: 1\n  approve_after_canary: true\n  interval: 0s"})
			args := []string{"send", file, "--env", "staging", "--skip-refused", "--rejects", filepath.Join(filepath.Dir(file), "rejects.csv")}
			sentFrom, _ := os.Getwd()
			if tt.relative {
				sentFrom = filepath.Dir(filepath.Dir(file))
				t.Chdir(sentFrom)
				args[1] = filepath.Join(filepath.Base(filepath.Dir(file)), "campaign.yaml")
				args[len(args)-1] = "rejects.csv"
			}
			if r := cli(t, env, args...); r.code != 0 {
				t.Fatalf("first send\n%s", r)
			}
			stop, log := startWorker(t, workerEnv)
			waitState(t, workerEnv, name, "awaiting-approval", log)
			stop()
			if err := rd.Wipe(t.Context()); err != nil {
				t.Fatal(err)
			}
			elsewhere := t.TempDir() // where the operator pastes
			t.Chdir(elsewhere)

			r := cli(t, env, "status", name, "--env", "staging")
			m := regexp.MustCompile(`\((tidings send [^)]*)\): it refuses`).FindStringSubmatch(r.stderr)
			if r.code == 0 || m == nil {
				t.Fatalf("status after the loss: want the send to run again\n%s", r)
			}
			if strings.Contains(m[1], "CAMPAIGN-FILE") {
				t.Errorf("status names the campaign file as a placeholder: %s", m[1])
			}
			r = paste(t, env, m[1])
			if r.code != 1 || !strings.Contains(r.stderr, "Redis lost its state") {
				t.Errorf("status's command pasted (%s): want send's state-loss refusal\n%s", m[1], r)
				// As the operator fills it in: the first send again, where it ran.
				t.Chdir(sentFrom)
				r = cli(t, env, args...)
				t.Chdir(elsewhere)
			}
			step1 := regexp.MustCompile(`(?m)^  1\. .*$`).FindString(r.stderr)
			step2 := regexp.MustCompile(`(?m)^  2\. (tidings send .*)$`).FindStringSubmatch(r.stderr)
			if step2 == nil {
				t.Fatalf("no step 2 in the refusal\n%s", r)
			}
			if mk := regexp.MustCompile(`mkdir -p (\S+|'[^']*');`).FindStringSubmatch(step1); mk != nil {
				if out, err := exec.Command("sh", "-c", "mkdir -p "+mk[1]).CombinedOutput(); err != nil {
					t.Fatalf("step 1's mkdir pasted: %v\n%s", err, out)
				}
			} else if tt.journalElsewhere {
				t.Errorf("step 1 on a host without the journal directory does not say to make it: %s", step1)
			}
			// Step 1, the operator's part: copy the worker host's journal
			// files into the directory step 1 names.
			into := regexp.MustCompile(`into (\S+)/;$`).FindStringSubmatch(step1)
			if into == nil {
				t.Fatalf("step 1 names no directory to copy into: %s", step1)
			}
			if into[1] != filepath.Join(workerEnv["TIDINGS_JOURNAL_DIR"], name) {
				copyFiles(t, filepath.Join(workerEnv["TIDINGS_JOURNAL_DIR"], name), into[1])
			}
			if r := paste(t, env, step2[1]); r.code != 0 || !strings.Contains(r.stdout, "Staged ") {
				t.Fatalf("step 2 pasted (%s): want the campaign staged again\n%s", step2[1], r)
			}

			stop, log = startWorker(t, workerEnv)
			defer stop()
			if st := status(t, workerEnv, name); st.State != "done" {
				waitState(t, workerEnv, name, "awaiting-approval", log) // the recovery's canary, if any is left
				if r := cli(t, workerEnv, "approve", name, "--env", "staging"); r.code != 0 {
					t.Fatalf("approve\n%s", r)
				}
			}
			waitState(t, workerEnv, name, "done", log)
			receivedOnce(t, smtp, rows[:len(rows)-1])
			rep := cli(t, workerEnv, "report", name, "--env", "staging")
			if got := strings.Count(strings.TrimSpace(rep.stdout), "\n"); rep.code != 0 || got != len(rows) {
				t.Errorf("report lists %d rows, want all %d\n%s", got, len(rows), rep)
			}
		})
	}
}

// receivedOnce checks that each recipient of rows (CSV, the address
// first) received exactly one message of smtp.
func receivedOnce(t *testing.T, smtp *smtpcapture.Server, rows []string) {
	t.Helper()
	per := map[string]int{}
	for _, msg := range smtp.Messages() {
		for _, to := range msg.To {
			per[to]++
		}
	}
	for _, row := range rows {
		if to := strings.Split(row, ",")[0]; per[to] != 1 {
			t.Errorf("%s received %d messages, want 1", to, per[to])
		}
	}
}

// paste runs line, a command tidings printed, as a POSIX shell splits it,
// with the variables in env.
func paste(t *testing.T, env map[string]string, line string) result {
	t.Helper()
	words, err := exec.Command("sh", "-c", "printf '%s\\0' "+strings.TrimPrefix(line, "tidings ")).Output()
	if err != nil {
		t.Fatalf("the shell cannot read %q: %v", line, err)
	}
	args := strings.Split(strings.TrimSuffix(string(words), "\x00"), "\x00")
	return cli(t, env, args...)
}

// copyFiles copies every file of dir from into dir to.
func copyFiles(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o600); err != nil {
			t.Fatalf("copy the worker's journal into the directory step 1 names: %v", err)
		}
	}
}

package cli

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestAWindowOfAStagingReplacedSendsNothingMore: README, On-call: "Cancel…:
// stops the campaign (only `send --resume-existing` runs it again) ...
// Every unsent recipient becomes `cancelled`"; help of cancel: "cancel
// stops a campaign for good: nothing more is sent"; Operator's walk-through
// step 4: a campaign staged again with --resume-existing "runs again for
// the recipients not sent".
//
// The relay is slow with the first message (20 recipients, one worker, one
// connection, its claim window of 16 claimed: 10 en, 6 de). The campaign
// is stopped (cancelled, "wrong recipients file"; or paused by tidings
// itself, as an auto-pause does), the 10 en rows are removed from the file
// and the campaign is staged again with `send --resume-existing`, which
// runs it (it lifts tidings' own pause). When the relay answers, the
// window of the staging before sends nothing more: no en recipient is
// mailed after the stop, and the 6 de recipients it claimed are given
// back, never sent by it nor shown in doubt: the new staging sends each
// of the 10 de recipients once, and its report says sent for all of them.
// (Found by red team 12a: the window went on sending, with the old
// staging's content, because the state it checked before each message
// was "running" again, the new staging's.)
func TestAWindowOfAStagingReplacedSendsNothingMore(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		stop func(t *testing.T, env map[string]string, st *store.Store)
	}{
		{"cancelled", func(t *testing.T, env map[string]string, _ *store.Store) {
			if r := cli(t, env, "cancel", "wrongfile", "--env", "staging", "--reason", "wrong recipients file"); r.code != 0 {
				t.Fatalf("cancel\n%s", r)
			}
		}},
		{"auto-paused", func(t *testing.T, _ map[string]string, st *store.Store) {
			if _, moved, err := st.Transition(t.Context(), "wrongfile", store.TransitionParams{From: []store.State{store.StateRunning}, To: store.StatePaused,
				Actor: store.Actor{Who: "tidings-worker w1", Host: "h"}, Action: "auto-pause", Reason: "auto-pause: error rate 60% over the last 10 attempts"}); err != nil || !moved {
				t.Fatalf("auto-pause: moved %v, %v", moved, err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			release := make(chan struct{})
			var (
				n    atomic.Int32
				held atomic.Value // the recipient of the message the relay held
			)
			smtp := startSMTP(t, smtpcapture.Config{Fault: func(rcpt string) error {
				if n.Add(1) == 1 {
					held.Store(rcpt)
					<-release // the relay is slow with the first message
				}
				return nil
			}})
			renv, rs := redisEnv(t)
			st := store.New(rs.Client())
			env := merge(renv, smtpEnv(smtp))
			file := writeCampaign(t, campaignFile{name: "wrongfile", rows: rowsIn(10, "en", "de"),
				batches: "  size: 100\n  interval: 0s"})
			rejects := filepath.Join(t.TempDir(), "rejects.csv")
			if r := cli(t, env, "send", file, "--env", "staging", "--rejects", rejects); r.code != 0 {
				t.Fatalf("send\n%s", r)
			}
			_, log := startWorker(t, env, "--concurrency", "1", "--log-level", "warn")
			wait.For(t, time.Minute, "the first message to be in the relay's hands", func() bool { return n.Load() >= 1 }, log.String)

			tc.stop(t, env, st)
			// The fix: the en rows were the wrong people. Staged again for the rest.
			fixed := "email,name,locale,posts\n" + strings.Join(rowsIn(10, "de"), "\n") + "\n"
			if err := os.WriteFile(filepath.Join(filepath.Dir(file), "recipients.csv"), []byte(fixed), 0o600); err != nil {
				t.Fatal(err)
			}
			if r := cli(t, env, "send", file, "--env", "staging", "--resume-existing", "--rejects", rejects); r.code != 0 {
				t.Fatalf("send --resume-existing\n%s", r)
			}
			// Before the relay answers: the worker has seen the new staging (it
			// checked in for its state: no check is awaited), as it would within
			// 200 ms; a relay slow for longer than that is all it takes.
			wait.For(t, time.Minute, "the worker to have seen the new staging", func() bool {
				var s struct {
					State   string   `json:"state"`
					Awaited []string `json:"awaited_checks"`
				}
				r := cli(t, env, "status", "wrongfile", "--env", "staging", "--json")
				return r.code == 0 && json.Unmarshal([]byte(r.stdout), &s) == nil && s.State == "running" && len(s.Awaited) == 0
			}, log.String)
			close(release) // the relay answers the message it held
			// One connection: the new staging's chunk runs once the old one ended.
			waitState(t, env, "wrongfile", "done", log)

			// What the relay took (a message's data and final dot), not what
			// it was offered: the worker writes the window's next message's
			// MAIL, RCPT and DATA with the held message's data (one write a
			// message), so the relay sees that recipient's RCPT after the
			// stop; its data never follows (the connection is closed
			// without it).
			mailed := map[string]int{}
			for _, m := range smtp.Messages() {
				for _, rcpt := range m.To {
					mailed[rcpt]++
				}
			}
			var wrong []string
			for rcpt := range mailed {
				if strings.Contains(rcpt, "-en@") && rcpt != held.Load() {
					wrong = append(wrong, rcpt)
				}
			}
			if len(wrong) > 0 {
				t.Errorf("after the campaign was stopped, %d recipient(s) of the staging before, removed from the file, were mailed: %v (the held message was %v's)", len(wrong), wrong, held.Load())
			}
			for _, row := range rowsIn(10, "de") {
				if rcpt, _, _ := strings.Cut(row, ","); mailed[rcpt] != 1 {
					t.Errorf("%s: mailed %d times, want once (by the new staging)", rcpt, mailed[rcpt])
				}
			}
			r := cli(t, env, "report", "wrongfile", "--env", "staging")
			rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
			if r.code != 0 || err != nil || len(rows) != 11 {
				t.Fatalf("report: want a header and 10 rows (%v)\n%s", err, r)
			}
			for _, row := range rows[1:] {
				if row[5] != "sent" {
					t.Errorf("report: %s is %s (%s), want sent: the window of the staging before never handed it to SMTP\n%s", row[2], row[5], row[7], r.stdout)
				}
			}
		})
	}
}

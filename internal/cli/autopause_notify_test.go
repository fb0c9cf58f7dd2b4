package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestAutoPauseNotificationNamesNoRecipient: real relays name the
// recipient in their refusal (postfix: "550 5.1.1 <jane@example.org>:
// Recipient address rejected: User unknown in local recipient table").
// The auto-pause notification (a third party's chat) names no recipient:
// its reason ("last error: ...") and top error have the address masked,
// and the top error groups every failure with that reply, whoever it was
// about (red team 7: it counted 1 of 5, and carried an address).
func TestAutoPauseNotificationNamesNoRecipient(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var events []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		events = append(events, string(b))
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	smtp := startSMTP(t, smtpcapture.Config{Fault: func(rcpt string) error {
		return smtpcapture.Reject(550, "5.1.1 <"+rcpt+">: Recipient address rejected: User unknown in local recipient table")
	}})
	renv, _ := redisEnv(t)
	env := merge(renv, smtpEnv(smtp), map[string]string{"TIDINGS_NOTIFY_WEBHOOK_URL": hook.URL})
	const n = 40
	var rows, emails []string
	for i := 0; i < n; i++ {
		emails = append(emails, fmt.Sprintf("person%02d@example.org", i))
		rows = append(rows, emails[i]+",P,en,1")
	}
	file := writeCampaign(t, campaignFile{name: "bounce", rows: rows,
		extra: "auto_pause:\n  error_rate: 0.5\n  window: 10\n  min_attempts: 5\n"})
	if r := cli(t, env, "send", file, "--env", "staging", "--rejects", filepath.Join(filepath.Dir(file), "rejects.csv")); r.code != 0 {
		t.Fatalf("send\n%s", r)
	}
	_, log := startWorker(t, env)
	waitState(t, env, "bounce", "paused", log)
	var payload string
	wait.For(t, 60*time.Second, "the auto-pause notification", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range events {
			if strings.Contains(e, `"event":"auto-pause"`) {
				payload = e
				return true
			}
		}
		return false
	})
	var ev struct {
		Reason   string `json:"reason"`
		TopError struct {
			Code     string `json:"code"`
			Response string `json:"response"`
			Count    int    `json:"count"`
		} `json:"top_error"`
		Counts map[string]int64 `json:"counts"`
	}
	if err := json.Unmarshal([]byte(payload), &ev); err != nil {
		t.Fatalf("payload %s: %v", payload, err)
	}
	var leaked []string
	for _, e := range emails {
		if strings.Contains(payload, e) {
			leaked = append(leaked, e)
		}
	}
	if len(leaked) > 0 {
		t.Errorf("the auto-pause webhook payload names recipients %v (reason %q, top_error %q); want no recipient's address in a notification", leaked, ev.Reason, ev.TopError.Response)
	}
	if failed := ev.Counts["failed"]; int64(ev.TopError.Count) < failed {
		t.Errorf("top_error counts %d of %d failures that all had the same reply but for the address: want them grouped", ev.TopError.Count, failed)
	}
	// status (errors by reply) names nobody either; the report, the
	// operator's own list, keeps each recipient's reply whole.
	st := cli(t, env, "status", "bounce", "--env", "staging")
	rep := cli(t, env, "report", "bounce", "--env", "staging", "--outcome", "failed")
	for _, e := range emails {
		if strings.Contains(st.stdout, e) {
			t.Errorf("status names %s:\n%s", e, st.stdout)
		}
		if strings.Contains(rep.stdout, e+",") && !strings.Contains(rep.stdout, "<"+e+">: Recipient address rejected") {
			t.Errorf("the report lists failed %s without its reply:\n%s", e, rep.stdout)
		}
	}
	if !strings.Contains(st.stdout, "<address>: Recipient address rejected") || !strings.Contains(rep.stdout, "@example.org>: Recipient address rejected") {
		t.Errorf("want status's errors masked and the report's replies whole; status:\n%s\nreport:\n%s", st.stdout, rep.stdout)
	}
}

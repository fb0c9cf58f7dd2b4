package doctor_test

import (
	"errors"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tidings-mail/tidings/internal/demo"
	"github.com/tidings-mail/tidings/internal/doctor"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/freeport"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// TestRun: with Redis and SMTP unreachable every server check fails as
// infrastructure; a campaign that could not be loaded is a failed check
// saying why; a campaign's incomplete templates are said.
func TestRun(t *testing.T) {
	t.Parallel()
	_, port, _ := net.SplitHostPort(freeport.Closed(t))
	vars := map[string]string{
		"TIDINGS_REDIS_URL": "redis://127.0.0.1:" + port + "/0", "TIDINGS_STATE_DIR": t.TempDir(),
		"TIDINGS_SMTP_HOST": "127.0.0.1", "TIDINGS_SMTP_PORT": port, "TIDINGS_SMTP_TLS": "none",
	}
	e, err := environment.Load(nil, "", "staging", func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	r := doctor.Run(t.Context(), e, nil, errors.New("campaign file x.yaml does not exist"))
	if !r.Infra || r.Incomplete || r.Failed < 3 || r.Environment != "staging" {
		t.Errorf("report %+v", r)
	}
	var text strings.Builder
	r.WriteText(&text)
	if !strings.Contains(text.String(), "FAIL  campaign               campaign file x.yaml does not exist\n") || strings.Contains(text.String(), "All checks passed") {
		t.Errorf("text:\n%s", text.String())
	}

	b, err := demo.Load(filepath.Join(t.TempDir(), "demo"))
	if err != nil {
		t.Fatal(err)
	}
	if r := doctor.Run(t.Context(), e, b, nil); !r.Incomplete {
		t.Errorf("the demo's templates (pt incomplete): report %+v", r)
	}
}

// TestRunProbesWithTheCampaignsSender: given a campaign, doctor's check
// without credentials starts its transaction with the campaign's from
// address, as every message will, not with the null sender: a server that
// refuses <> by policy (553 5.7.1) but takes the campaign's sender passes.
func TestRunProbesWithTheCampaignsSender(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var senders []string
	e := relayEnv(t, smtpcapture.Config{MailFault: func(from string) error {
		mu.Lock()
		defer mu.Unlock()
		senders = append(senders, from)
		if from == "" {
			return smtpcapture.Reject(553, "5.7.1 Sender address rejected: null sender not allowed")
		}
		return nil
	}})
	b, err := demo.Load(filepath.Join(t.TempDir(), "demo"))
	if err != nil {
		t.Fatal(err)
	}
	var auth doctor.Check
	for _, c := range doctor.Run(t.Context(), e, b, nil).Checks {
		if c.Name == "smtp auth" {
			auth = c
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if auth.Status != doctor.Pass || !strings.Contains(auth.Message, "community@altea.example") {
		t.Errorf("smtp auth %s %q, want pass naming the campaign's sender community@altea.example", auth.Status, auth.Message)
	}
	if len(senders) != 1 || senders[0] != "community@altea.example" {
		t.Errorf("the probe's MAIL FROM was %q, want the campaign's sender community@altea.example", senders)
	}
}

package worker_test

import (
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/worker"
)

func TestForEnvironment(t *testing.T) {
	t.Parallel()
	base := map[string]string{
		"TIDINGS_SMTP_HOST": "smtp.example", "TIDINGS_SMTP_PORT": "587", "TIDINGS_SMTP_TLS": "starttls",
		"TIDINGS_SMTP_USERNAME": "mailer", "TIDINGS_SMTP_PASSWORD": "hunter2", "TIDINGS_SMTP_CONNECTIONS": "5",
		"TIDINGS_SMTP_TIMEOUT": "7s", "TIDINGS_STATE_DIR": "/state", "TIDINGS_REDIS_MIN_REPLICA_ACKS": "1",
	}
	tests := []struct {
		name            string
		concurrency     string
		wantConcurrency int
	}{
		{"one chunk in flight per SMTP connection", "", 5},
		{"the environment's concurrency", "3", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{"TIDINGS_CONCURRENCY": tt.concurrency}
			for k, v := range base {
				vars[k] = v
			}
			e, err := environment.Load(nil, "", "staging", func(k string) string { return vars[k] })
			if err != nil {
				t.Fatal(err)
			}
			cfg := worker.ForEnvironment(e, nil)
			wantSMTP := send.Config{Host: "smtp.example", Port: 587, TLS: "starttls", Username: "mailer", Password: "hunter2", Timeout: 7 * time.Second}
			wantJournal := journal.Config{Dir: "/state/journal", Sync: environment.DefaultJournalFsync}
			if cfg.Env != "staging" || cfg.Concurrency != tt.wantConcurrency || cfg.SMTP != wantSMTP || cfg.Journal != wantJournal ||
				cfg.ReplicaAcks != 1 || cfg.AckTimeout != environment.DefaultReplicaAckTimeout {
				t.Errorf("ForEnvironment: env %q, concurrency %d, SMTP %+v, journal %+v, acks %d within %s\nwant staging, %d, %+v, %+v, 1 within %s",
					cfg.Env, cfg.Concurrency, cfg.SMTP, cfg.Journal, cfg.ReplicaAcks, cfg.AckTimeout,
					tt.wantConcurrency, wantSMTP, wantJournal, environment.DefaultReplicaAckTimeout)
			}
		})
	}
}

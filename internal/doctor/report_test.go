package doctor_test

import (
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/demo"
	"github.com/tidings-mail/tidings/internal/doctor"
	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/freeport"
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

package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/redistest"
)

// TestCommandsWhileRedisOutOfMemory: the tidings binary against a real
// redis-server at its maxmemory under noeviction (CONFIG SET maxmemory 1:
// every write refused with OOM). send, pause and cancel each exit 3 with
// Redis's answer and what to do (raise maxmemory); nothing of the new
// campaign is left that keeps the same send, run again once memory is
// raised, from staging it, and the staged campaign can then be paused and
// cancelled. No worker runs: nothing is sent.
func TestCommandsWhileRedisOutOfMemory(t *testing.T) {
	t.Parallel()
	srv := startSMTPSink(t)
	r := redistest.StartServer(t, "../redistest/testdata/plain.conf")
	e := newEnvWith(t, "url: "+r.URL, srv.Port(), 2)
	rows := simpleRows(20, acceptedLocales)
	e.stageSimple(campaignSpec{name: "e2e-oom-a", size: 5000}, rows)
	cdir := filepath.Join(e.dir, "campaign")
	fileB := writeCampaign(t, cdir, campaignSpec{name: "e2e-oom-b", size: 5000, templatesDir: "templates", localesDir: "locales"}, csvOf(t, rows))
	rdb := r.Client()
	ctx := context.Background()
	if err := rdb.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"send", fileB, "--env", envName},
		{"pause", "e2e-oom-a", "--env", envName, "--reason", "e2e: oom"},
		{"cancel", "e2e-oom-a", "--env", envName, "--reason", "e2e: oom"},
	} {
		res := e.run(args...)
		if res.code != 3 || !strings.Contains(res.stderr, "OOM") || !strings.Contains(res.stderr, "raise maxmemory") {
			t.Errorf("under OOM: want exit 3 naming OOM and what to do (raise maxmemory); %s", res)
		}
	}
	if err := rdb.ConfigSet(ctx, "maxmemory", "0").Err(); err != nil {
		t.Fatal(err)
	}
	e.mustRun("send", fileB, "--env", envName)
	e.mustRun("pause", "e2e-oom-a", "--env", envName, "--reason", "e2e: oom")
	e.mustRun("cancel", "e2e-oom-a", "--env", envName, "--reason", "e2e: oom")
	if st := e.status("e2e-oom-a"); st.State != "cancelled" {
		t.Errorf("e2e-oom-a after cancel: state %s, want cancelled", st.State)
	}
	if st := e.status("e2e-oom-b"); st.Total != int64(len(rows)) {
		t.Errorf("e2e-oom-b, sent again once memory was raised: %d recipients, want %d", st.Total, len(rows))
	}
	if n := srv.Count(); n != 0 {
		t.Errorf("%d messages sent with no worker running", n)
	}
}

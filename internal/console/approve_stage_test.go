package console_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/wait"
)

// TestApprovalIsOfTheStagingThePageShowed: the canary gate holds only if
// an approval is of the canary someone checked (found by a red team). An
// operator has staging A's page open (A awaiting approval: its canary went
// to ada-en and ada-de) when A is cancelled and staged again (B) from a
// corrected recipients file whose first rows, B's canary, are new people.
// Approve pressed on A's page is refused, saying why (it released B, which
// then sent its canary and everyone else without anyone seeing B's
// canary); B waits for an approval of its own canary, which the reloaded
// page gives.
func TestApprovalIsOfTheStagingThePageShowed(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	const name = "apprstage"
	file := w.Stage(t, consoletest.Spec{Name: name, N: 8, Locales: []string{"en", "de"}, Canary: 1, Approve: true})
	stop := w.StartWorker(t)
	w.WaitState(t, name, store.StateAwaitingApproval, time.Minute)
	stop()

	// The operator opens staging A's page: it offers Approve, of A.
	s := newSite(t, w, false)
	op := s.signIn(t, operatorToken)
	_, page, _ := op.get("/c/" + name)
	if !strings.Contains(page, `action="/c/`+name+`/approve"`) {
		t.Fatalf("A's page offers no Approve")
	}
	csrf, stageA := csrfRE.FindStringSubmatch(page)[1], stageRE.FindStringSubmatch(page)
	if stageA == nil {
		t.Fatalf("A's approve form names no staging")
	}

	// Meanwhile A is cancelled and staged again from a corrected file:
	// two new people first, so they are B's canary.
	if out, code := w.CLI(t, "cancel", name, "--env", consoletest.EnvName, "--reason", "wrong recipients file"); code != 0 {
		t.Fatalf("cancel: exit %d\n%s", code, out)
	}
	csvPath := filepath.Join(filepath.Dir(file), "recipients.csv")
	old, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	header, rows, _ := strings.Cut(string(old), "\n")
	fresh := header + "\nnew-en@example.com,New En,en,1\nnew-de@example.com,New De,de,2\n" + rows
	if err := os.WriteFile(csvPath, []byte(fresh), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := w.CLI(t, "send", file, "--env", consoletest.EnvName, "--resume-existing", "--skip-refused", "--skip-invalid"); code != 0 {
		t.Fatalf("send --resume-existing: exit %d\n%s", code, out)
	}

	// The operator presses Approve on A's page: refused, saying why.
	code, body := op.post("/c/"+name+"/approve", url.Values{"csrf": {csrf}, "stage": {stageA[1]}, "reason": {"A's canary looks right"}})
	if code != http.StatusConflict || !strings.Contains(body, "was staged again since this page was loaded") {
		t.Errorf("approve from A's page after B was staged: %d, want 409 saying it was staged again\n%s", code, body)
	}

	w.StartWorker(t)
	// B's canary goes to new-en and new-de; then B waits for an approval
	// of that canary.
	wait.For(t, time.Minute, "B's canary to be sent", func() bool {
		n := 0
		for _, m := range w.SMTP.Messages() {
			if strings.HasPrefix(m.To[0], "new-") {
				n++
			}
		}
		return n == 2
	})
	w.WaitState(t, name, store.StateAwaitingApproval, time.Minute)

	// The reloaded page approves B.
	_, page, _ = op.get("/c/" + name)
	stageB := stageRE.FindStringSubmatch(page)
	if stageB == nil || stageB[1] == stageA[1] {
		t.Fatalf("B's page names staging %v, want another than A's %s", stageB, stageA[1])
	}
	if code, body := op.post("/c/"+name+"/approve", url.Values{"csrf": {csrfRE.FindStringSubmatch(page)[1]}, "stage": {stageB[1]}}); code != http.StatusOK {
		t.Fatalf("approve from B's page: %d\n%s", code, body)
	}
	w.WaitState(t, name, store.StateDone, time.Minute)
}

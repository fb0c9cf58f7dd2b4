package notify_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/notify"
	"github.com/tidings-mail/tidings/internal/store"
)

// TestAWorkerRestartDoesNotPostAnEventTwice: notifications and a
// worker restarted by a deploy.
//
// README (Metrics and notifications): workers and consoles post on
// auto-pause, awaiting approval, done, cancelled and no progress "— each
// event once however many processes run, retried on failure until the
// webhook accepts it". The package's own doc (internal/notify/notify.go)
// names the one exception: "A notifier that dies after the webhook
// accepted an event but before recording it lets the event be delivered
// again when its lease ends".
//
// Red team 14d found that a worker stopped the ordinary way (SIGTERM: a
// deploy, a rolling restart), not killed, while its notifier posted an
// event to a webhook that had the whole request but had not answered yet
// (Slack answering in a second, say), aborted the post at once: the post
// was made with the notifier's context, which the signal ends. The
// delivery was recorded as failed and released, and the next notifier
// posted the same event again: two "cancelled by ..." messages for one
// cancel, though no process died. A post under way is now let finish
// (bounded by its own timeout) and recorded; workerproc waits for it
// (TestRunLetsANotificationUnderWayFinish).
func TestAWorkerRestartDoesNotPostAnEventTwice(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	w.Stage(t, consoletest.Spec{Name: "restart", N: 5})
	if _, _, err := w.Store.Cancel(t.Context(), "restart", store.Actor{Who: "alice", Host: "laptop"}, "wrong recipients file"); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var posts []string
	got := make(chan struct{}, 1)
	release := make(chan struct{})
	hook := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body) // the webhook has the whole event: it is accepted
		mu.Lock()
		posts = append(posts, r.Header.Get("X-Tidings-Event"))
		first := len(posts) == 1
		mu.Unlock()
		if first {
			got <- struct{}{}
			<-release // slow to answer
		}
	}))
	t.Cleanup(hook.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})

	now := time.Now()
	newNotifier := func(owner string, clock time.Time) *notify.Notifier {
		n, err := notify.New(notify.Config{Store: w.Store, Env: consoletest.EnvName, WebhookURL: hook.URL + "/json",
			Owner: owner, Clock: func() time.Time { return clock }, Backoff: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Worker a's notifier posts the cancel; the worker gets SIGTERM meanwhile.
	ctx, sigterm := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = newNotifier("worker-a", now).Poll(ctx)
	}()
	select {
	case <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("the notifier did not post the cancel")
	}
	sigterm()
	select { // a post let finish waits for the answer; one cut off returns at once
	case <-done:
	case <-time.After(2 * time.Second):
	}
	close(release)
	<-done

	// Worker b's notifier (or a's after its restart) polls later on.
	if err := newNotifier("worker-b", now.Add(5*time.Minute)).Poll(t.Context()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(posts) != 1 {
		t.Errorf("the webhook received the cancel %d times %v, want once: a worker stopped (not killed) while the post was under way cut it off, and another notifier posted the event again", len(posts), posts)
	}
}

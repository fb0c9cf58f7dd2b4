package childproc_test

import (
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/tidings-mail/tidings/internal/childproc"
)

// A child must outlive the thread of whoever asked for it. Each child here
// is started by a goroutine locked to its thread, which then returns, so Go
// ends that thread: with a plain cmd.Start there, PDEATHSIG would kill the
// child at once. Every child must instead run to its own clean exit.
func TestChildOutlivesTheCallersThread(t *testing.T) {
	const children = 8
	type started struct {
		child *childproc.Child
		err   error
	}
	results := make(chan started, children)
	var wg sync.WaitGroup
	for range children {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // never unlocked: this thread ends when the goroutine returns
			ch, err := childproc.Start(exec.Command("sleep", "1"))
			results <- started{ch, err}
		}()
	}
	wg.Wait()
	close(results)
	i := 0
	for r := range results {
		i++
		if r.err != nil {
			t.Fatal(r.err)
		}
		if err := r.child.Err(); err != nil {
			t.Errorf("child %d: %v (want a clean exit: killed by the parent-death signal?)", i, err)
		}
		select {
		case <-r.child.Done():
		default:
			t.Errorf("child %d: Done not closed after the result", i)
		}
	}
}

func TestStartErrorIsReturned(t *testing.T) {
	_, err := childproc.Start(exec.Command("/nonexistent/tidings-no-such-binary"))
	if err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("got %v, want the start error", err)
	}
}

package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tidings-mail/tidings/internal/store"
	"github.com/tidings-mail/tidings/internal/syncbuf"
)

// openPTY returns the two ends of a new pseudo-terminal: what is written
// to tty is read from ptm.
func openPTY(t *testing.T) (ptm, tty *os.File) {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { ptm.Close() })
	if err := unix.IoctlSetPointerInt(int(ptm.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(ptm.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tty.Close() })
	return ptm, tty
}

// TestCancelShowsProgressOnATerminal: cancelling a campaign of 10,000
// recipients or more draws a progress bar on stderr when it is a
// terminal, nothing when it is not, and says at the end how many it
// cancelled.
func TestCancelShowsProgressOnATerminal(t *testing.T) {
	t.Parallel()
	for _, terminal := range []bool{true, false} {
		t.Run(fmt.Sprintf("terminal %v", terminal), func(t *testing.T) {
			t.Parallel()
			env, r := redisEnv(t)
			ctx := t.Context()
			st := store.New(r.Client())
			const n = 12000
			sg, err := st.NewStager(ctx, store.StageConfig{Campaign: "big", Definition: []byte(`{}`), Hash: "h", Env: "staging", Who: "alice"})
			if err != nil {
				t.Fatal(err)
			}
			for i := range n {
				if err := sg.Add(ctx, store.Recipient{Line: i + 2, ID: fmt.Sprint("r", i), Email: fmt.Sprintf("r%d@x.example", i), Locale: "en", Lang: "en"}, i/500, false); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := sg.Finish(ctx, true); err != nil {
				t.Fatal(err)
			}
			var stdout, buf syncbuf.Buffer
			var stderr io.Writer = &buf
			drawn := make(chan []byte, 1)
			if terminal {
				ptm, tty := openPTY(t)
				stderr = tty
				go func() {
					var b bytes.Buffer
					_, _ = io.Copy(&b, ptm) // until the tty is closed
					drawn <- b.Bytes()
				}()
			}
			code := run(ctx, []string{"cancel", "big", "--env", "staging", "--reason", "wrong list"}, strings.NewReader(""), &stdout, stderr, func(k string) string { return env[k] }, environOf(env))
			if want := fmt.Sprintf("Cancelled big: %d unsent recipients recorded as cancelled.", n); code != 0 || !strings.Contains(stdout.String(), want) {
				t.Fatalf("exit %d, stdout %q; want 0 and %q", code, stdout.String(), want)
			}
			if !terminal {
				if buf.Len() != 0 {
					t.Errorf("stderr %q, want nothing: it is no terminal", buf.String())
				}
				return
			}
			stderr.(*os.File).Close()
			if got := string(<-drawn); !strings.Contains(got, "cancelling") || !strings.Contains(got, fmt.Sprint("/", n)) {
				t.Errorf("the terminal shows %q, want a bar 'cancelling .../%d'", got, n)
			}
		})
	}
}

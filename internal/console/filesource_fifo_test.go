//go:build unix

package console_test

import (
	"html"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/console"
	"github.com/tidings-mail/tidings/internal/console/consoletest"
)

// TestFileGalleryRefusesARecipientsFileThatBecameAPipe: `tidings console
// --campaign FILE` reads the recipients file again at each request to its
// gallery (whether it changed). A recipients file replaced by a named
// pipe no program writes to is said to be one (what bundle says of it),
// not waited on: the console opened it with os.Open, so the request
// waited for ever, and every later one behind it.
func TestFileGalleryRefusesARecipientsFileThatBecameAPipe(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	file := w.WriteCampaign(t, consoletest.Spec{Name: "qa-fifo", N: 3})
	v, b := fileGalleryViewer(t, w, file)
	v.c.Timeout = time.Minute // a hang guard, not a measure
	if code, body, _ := v.get("/file/gallery"); code != 200 {
		t.Fatalf("as started: %d\n%s", code, body)
	}
	rcp := b.RecipientsPath()
	if err := os.Remove(rcp); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(rcp, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // set a request waiting on the pipe free, so that the server closes
		if f, err := os.OpenFile(rcp, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
	_, body, _ := v.get("/file/gallery")
	if body = html.UnescapeString(body); !strings.Contains(body, rcp+": is a named pipe, not a file") {
		t.Errorf("the gallery with a recipients file that is a named pipe does not say so:\n%s", body)
	}
}

// fileGalleryViewer serves a console on campaign file (console --campaign
// FILE, the file gallery), as the file-gallery tests do, and signs a
// viewer in; it returns the viewer's client and the bundle loaded.
func fileGalleryViewer(t *testing.T, w *consoletest.World, file string) (*client, *bundle.Bundle) {
	t.Helper()
	b, err := bundle.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := console.New(console.Config{Users: users(t), Compose: compose,
		File: &console.CampaignFile{Campaign: b.Campaign, Engine: b.Engine, Recipients: b.Recipients, Path: file}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return (&site{Server: ts, w: w}).signIn(t, viewerToken), b
}

package worker_test

import (
	"fmt"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/tidings-mail/tidings/internal/smtpcapture"
	"github.com/tidings-mail/tidings/locales"
	"github.com/tidings-mail/tidings/templates"
)

func fmtSscanf(rcpt string, i *int) (int, error) { return fmt.Sscanf(rcpt, "u%05d", i) }

func smtpReject(code int, msg string) error { return smtpcapture.Reject(code, msg) }

func templatesFS() fs.FS { return templates.FS }

// modifiedLocales is the bundled catalogs with one byte changed in de.toml.
func modifiedLocales(t *testing.T) fs.FS {
	t.Helper()
	return editedLocales(t, "de.toml", func(b []byte) []byte { return append(b, []byte("\n# edited after approval\n")...) })
}

// editedLocales is the bundled catalogs with file changed by edit.
func editedLocales(t *testing.T, file string, edit func([]byte) []byte) fs.FS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(locales.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(locales.FS, p)
		if err != nil {
			return err
		}
		if p == file {
			b = edit(b)
		}
		m[p] = &fstest.MapFile{Data: b}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

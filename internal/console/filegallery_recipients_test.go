package console_test

import (
	"html"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/console/consoletest"
	"github.com/tidings-mail/tidings/internal/fixture"
)

// TestFileGalleryNamesABrokenRecipientsFile: QA runs `tidings
// console --campaign FILE` (no environment, no Redis at all) while someone
// edits the campaign's recipients file, which is broken for a moment: its
// header says "mail" instead of "email".
//
// The README (QA): the gallery of a campaign file shows the files on disk
// as they are when you reload it; "Files broken mid-edit show the error
// with file and line (.../locales/de.toml:41: catalog syntax error: ...)
// instead of any card"; and the house rule: an error names file, line and
// field and says what to do.
//
// Found by red team 10: 503 Service Unavailable, "Redis did not answer
// (.../recipients.csv:1: the header lacks the column(s) email ...): reload
// the page in a moment; tidings doctor --env  says what is wrong": a
// console without Redis blamed Redis, told QA to wait and to run doctor
// with an empty environment, for a file to fix. The recipients file's
// error went to Server.storeError, which words every error it does not
// know as Redis being unreachable.
func TestFileGalleryNamesABrokenRecipientsFile(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	file := w.WriteCampaign(t, consoletest.Spec{Name: "qa-rcpt", N: 9, Incomplt: true})
	v, _ := fileGalleryViewer(t, w, file)
	rcpt := filepath.Join(filepath.Dir(file), "recipients.csv")
	fixture.Write(t, rcpt, "mail,locale\nada@altea.example,de\n")
	code, body, _ := v.get("/file/gallery")
	body = html.UnescapeString(body)
	if code == http.StatusServiceUnavailable || code != http.StatusUnprocessableEntity || strings.Contains(body, "Redis") || strings.Contains(body, "--env  ") || !strings.Contains(body, rcpt+":1:") {
		i := strings.Index(body, "<main>")
		t.Errorf("gallery with the recipients file broken mid-edit: %d; want the file's error with its line (%s:1: ...), not Redis blamed\n%s", code, rcpt, body[max(0, i):])
	}
}

package console_test

import (
	"html"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/console/consoletest"
)

// TestFileGalleryFollowsAMovedLocalesDir: QA keeps `tidings console
// --campaign FILE` open. The campaign file is edited to point locales_dir at
// a new directory (locales2, the catalogs of a new translation round) whose
// de.toml is still broken mid-edit: the gallery rightly shows the error with
// its file and line (422). The translator then fixes locales2/de.toml, and
// QA reloads.
//
// The README (QA): "The gallery of a campaign file shows the files on disk
// as they are when you reload it: a translator's fix to locales/de.toml is
// on the next reload, exactly what send would stage then (each reload
// compares the campaign file, the template's files and the catalogs with
// what the console read, and reads them again when they changed)".
//
// Found by red team 10: the gallery kept showing the syntax error of the
// de.toml that is fixed on disk, on every reload, until someone touches the
// campaign file or the old locales directory: the fix is never seen (send
// would stage the fixed files). The cause:
// internal/console/filesource.go fileState.current/load: contentSum hashes
// the directories of st.cur.Campaign, which load updates only when the
// files load; after a failed load the sum keeps covering the old locales
// directory, so a change in the new one leaves the sum as it was and
// nothing is read again.
func TestFileGalleryFollowsAMovedLocalesDir(t *testing.T) {
	t.Parallel()
	w := consoletest.New(t, nil)
	file := w.WriteCampaign(t, consoletest.Spec{Name: "qa-move", N: 9, Incomplt: true}) // its own copy of the catalogs
	v, _ := fileGalleryViewer(t, w, file)
	const subject = "Bitte registrieren Sie sich neu: die Altea-Community ist umgezogen"
	get := func(when string, wantCode int, want string) {
		t.Helper()
		code, body, _ := v.get("/file/gallery")
		body = html.UnescapeString(body)
		if code != wantCode || !strings.Contains(body, want) {
			t.Fatalf("%s: %d, want %d and a page with %q\n%s", when, code, wantCode, want, body)
		}
	}
	get("as started", http.StatusOK, subject)

	// A new translation round: locales2, a copy of the catalogs, with
	// de.toml broken mid-edit.
	dir := filepath.Dir(file)
	old := filepath.Join(dir, "locales")
	moved := filepath.Join(dir, "locales2")
	if err := os.MkdirAll(moved, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(old)
	if err != nil {
		t.Fatal(err)
	}
	var de []byte
	for _, e := range entries {
		src, err := os.ReadFile(filepath.Join(old, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "de.toml" {
			de = src
			src = append(append([]byte(nil), src...), "\n[broken\n"...)
		}
		if err := os.WriteFile(filepath.Join(moved, e.Name()), src, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	y, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(y), "locales_dir: "+old+"\n") {
		t.Fatalf("%s does not set locales_dir: %s\n%s", file, old, y)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(y), "locales_dir: "+old+"\n", "locales_dir: "+moved+"\n", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	get("locales_dir moved to a directory whose de.toml is broken", http.StatusUnprocessableEntity, filepath.Join(moved, "de.toml"))

	// The translator fixes locales2/de.toml.
	if err := os.WriteFile(filepath.Join(moved, "de.toml"), de, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := bundle.Load(file); err != nil {
		t.Fatalf("the fixed files do not load (what send would stage): %v", err)
	}
	get("after the fix of "+filepath.Join(moved, "de.toml"), http.StatusOK, subject)
}

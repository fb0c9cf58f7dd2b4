package report_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/tidings-mail/tidings/internal/report"
)

// TestWriteFileKeepsTheOldReportOnFailure: a report that fails leaves the
// file there as it was (it may be the only list of who was sent) and no
// temporary file beside it; one that succeeds replaces it.
func TestWriteFileKeepsTheOldReportOnFailure(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "report.csv")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	failed := errors.New("redis away")
	err := report.WriteFile(path, func(w io.Writer) error {
		_, _ = io.WriteString(w, "half")
		return failed
	})
	if b, _ := os.ReadFile(path); err != failed || string(b) != "old" {
		t.Errorf("failed report: %v, file %q; want the write's error as it is and the old file", err, b)
	}
	if err := report.WriteFile(path, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Errorf("file %q, want the new report", b)
	}
	if es, _ := os.ReadDir(dir); len(es) != 1 {
		t.Errorf("%d files in the directory, want the report alone", len(es))
	}
}

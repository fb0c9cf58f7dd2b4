package report_test

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/tidings-mail/tidings/internal/fixture"
	"github.com/tidings-mail/tidings/internal/report"
	"github.com/tidings-mail/tidings/internal/userfile"
)

// TestWriteFileKeepsTheOldReportOnFailure: a report that fails leaves the
// file there as it was (it may be the only list of who was sent) and no
// temporary file beside it; one that succeeds replaces it.
func TestWriteFileKeepsTheOldReportOnFailure(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "report.csv")
	const old = "line,id,email,locale,lang,outcome\nold\n"
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	failed := errors.New("redis away")
	err := report.WriteFile(t.Context(), path, func(w io.Writer) error {
		_, _ = io.WriteString(w, "half")
		return failed
	})
	if b, _ := os.ReadFile(path); err != failed || string(b) != old {
		t.Errorf("failed report: %v, file %q; want the write's error as it is and the old file", err, b)
	}
	if err := report.WriteFile(t.Context(), path, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Errorf("file %q, want the new report", b)
	}
	if es, _ := os.ReadDir(dir); len(es) != 1 {
		t.Errorf("%d files in the directory, want the report alone", len(es))
	}
}

// TestWriteFileNamesThePathGiven: a report that cannot be written says
// what is wrong with the path given (userfile.Error), not with the
// temporary file beside it that the operating system named.
func TestWriteFileNamesThePathGiven(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tt := range []struct {
		path string
		want userfile.Problem
	}{
		{filepath.Join(dir, "missing", "report.csv"), userfile.NoDir},
		{dir, userfile.IsDir},
	} {
		err := report.WriteFile(t.Context(), tt.path, wrote)
		var ue *userfile.Error
		if !errors.As(err, &ue) || ue.Problem != tt.want || ue.Path != tt.path || strings.Contains(err.Error(), ".tmp") {
			t.Errorf("WriteFile(%s) = %v, want a userfile.Error (problem %d) naming that path", tt.path, err, tt.want)
		}
	}
	// The disk filled up while the report was written to the file beside
	// path: the error names path, and is infrastructure.
	path := filepath.Join(dir, "report.csv")
	err := report.WriteFile(t.Context(), path, func(w io.Writer) error {
		return fmt.Errorf("write report: %w", &fs.PathError{Op: "write", Path: path + ".123.tmp", Err: syscall.ENOSPC})
	})
	var ue *userfile.Error
	if !errors.As(err, &ue) || !ue.Infrastructure() || ue.Path != path || strings.Contains(err.Error(), ".tmp") {
		t.Errorf("disk full: %v, want a userfile.Error (NoSpace) naming %s", err, path)
	}
}

// TestWriteFileWritesThroughLinksAndPipes: --out naming a symbolic link
// writes the file it points to (a dangling link: the file it names), and
// leaves the link; one naming a pipe or a device (a FIFO, /dev/stdout)
// writes to it, never renaming a file over it (as root, a report to
// /dev/stdout replaced the device's link in /dev with a regular file).
func TestWriteFileWritesThroughLinksAndPipes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T, dir string) (path, target string) // target: "" for a pipe
	}{
		{"link to a report", func(t *testing.T, dir string) (string, string) {
			target := filepath.Join(dir, "reports", "latest.csv")
			if err := os.Mkdir(filepath.Dir(target), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(target, []byte("line,id,email,locale,lang,outcome,\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(dir, "report.csv"), target
		}},
		{"dangling link", func(t *testing.T, dir string) (string, string) {
			return filepath.Join(dir, "report.csv"), filepath.Join(dir, "not-yet.csv")
		}},
		{"pipe", func(t *testing.T, dir string) (string, string) {
			path := filepath.Join(dir, "fifo")
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
			return path, ""
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path, target := tt.setup(t, dir)
			if target != "" {
				if err := os.Symlink(target, path); err != nil {
					t.Fatal(err)
				}
			}
			read := make(chan string, 1)
			if target == "" {
				go func() { b, _ := os.ReadFile(path); read <- string(b) }()
			}
			if err := report.WriteFile(t.Context(), path, wrote); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			if target == "" {
				if fi.Mode()&fs.ModeNamedPipe == 0 {
					t.Fatalf("%s is %v after the report, want the pipe left as it was", path, fi.Mode())
				}
				if got := <-read; got != "new" {
					t.Errorf("the pipe's reader read %q, want the report", got)
				}
				return
			}
			if fi.Mode()&fs.ModeSymlink == 0 {
				t.Errorf("%s is %v after the report, want the link left as it was", path, fi.Mode())
			}
			if b, err := os.ReadFile(target); err != nil || string(b) != "new" {
				t.Errorf("the link's target %s: %q %v, want the report", target, b, err)
			}
		})
	}
}

// TestWriteFileNeverReplacesAnotherFile: --out is written over a report
// (CSV, JSON, or one read from the journals) or an empty file, never over
// another file: report --out naming the recipients file replaced it with
// the report. It is refused, naming the path and its first line, and the
// file is left as it was.
func TestWriteFileNeverReplacesAnotherFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tt := range []struct {
		refused       bool
		name, content string
	}{
		{true, "recipients file", "email,locale,name\nada@x.example,en,Ada\n"},
		{true, "JSONL recipients file", `{"email":"ada@x.example","locale":"en"}` + "\n"},
		{true, "campaign file", "name: c1\nenvironment: staging\n"},
		{false, "CSV report", strings.Join(report.Columns, ",") + "\n2,a,a@x.example,en,en,sent,250,ok,,1,0,c1,r\n"},
		{false, "CSV report of an earlier version", "line,id,email,locale,lang,outcome,code,response,at,attempts,batch\n"},
		{false, "journal report", strings.Join(report.JournalColumns, ",") + "\n"},
		{false, "JSON report", `{"campaign":"c1","run":"r","recipients":[]}` + "\n"},
		{false, "empty file", ""},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
		fixture.Write(t, path, tt.content)
		err := report.WriteFile(t.Context(), path, wrote)
		b, _ := os.ReadFile(path)
		if refused := err != nil && strings.Contains(err.Error(), path+": the file exists and is not a report (its first line is "); refused != tt.refused || tt.refused && string(b) != tt.content || !tt.refused && string(b) != "new" {
			t.Errorf("WriteFile over a %s: %v, file %q; want refused (naming the file, the file as it was): %v, else the report written", tt.name, err, b, tt.refused)
		}
	}
}

// wrote writes the report "new".
func wrote(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }

package userfile_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/tidings-mail/tidings/internal/userfile"
)

// TestExplain: each failure of a file a person named becomes what is wrong
// with the path as given and what to do, whatever file the operating
// system's error names (a temporary file beside it).
func TestExplain(t *testing.T) {
	t.Parallel()
	const path = "out/report.csv"
	tmp := func(errno syscall.Errno) error {
		return &fs.PathError{Op: "open", Path: "out/report.csv.123.tmp", Err: errno}
	}
	for _, tt := range []struct {
		name  string
		write bool
		err   error
		want  userfile.Problem
		says  string
		infra bool
	}{
		{"no directory", true, tmp(syscall.ENOENT), userfile.NoDir, "out/report.csv: the directory out does not exist: create it, or give a path in a directory that exists", false},
		{"a file as directory", true, tmp(syscall.ENOTDIR), userfile.NoDir, "the directory out does not exist", false},
		{"permission", true, tmp(syscall.EACCES), userfile.NotWritable, "out/report.csv: cannot be written (permission denied): give a path in a directory you can write to, or fix the permissions of out", false},
		{"read-only", true, tmp(syscall.EROFS), userfile.NotWritable, "cannot be written (read-only file system)", false},
		{"a directory", true, &os.LinkError{Op: "rename", Old: "x.tmp", New: path, Err: syscall.EISDIR}, userfile.IsDir, "out/report.csv: is a directory: give the path of a file", false},
		{"disk full", true, tmp(syscall.ENOSPC), userfile.NoSpace, "no space left (no space left on device): free space on that disk", true},
		{"missing", false, &fs.PathError{Op: "open", Path: path, Err: syscall.ENOENT}, userfile.Missing, "out/report.csv: the file does not exist: check the path", false},
		{"unreadable", false, &fs.PathError{Op: "open", Path: path, Err: syscall.EACCES}, userfile.NotReadable, "out/report.csv: cannot be read (permission denied): fix its permissions", false},
		{"other", true, tmp(syscall.EIO), userfile.Other, "out/report.csv: input/output error", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := userfile.Explain(path, tt.write, tt.err)
			var ue *userfile.Error
			if !errors.As(err, &ue) || ue.Problem != tt.want || ue.Infrastructure() != tt.infra || !errors.Is(err, tt.err) {
				t.Fatalf("Explain = %#v, want problem %d (infrastructure %v) wrapping %v", err, tt.want, tt.infra, tt.err)
			}
			if !strings.Contains(err.Error(), tt.says) || strings.Contains(err.Error(), ".tmp") {
				t.Errorf("Explain = %q, want it to say %q and not name the temporary file", err, tt.says)
			}
		})
	}
	if err := userfile.Explain(path, true, nil); err != nil {
		t.Errorf("Explain(nil) = %v", err)
	}
}

// TestReadCreate: Read and Create on real paths.
func TestReadCreate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var ue *userfile.Error
	if _, err := userfile.Read(filepath.Join(dir, "tokens.txt")); !errors.As(err, &ue) || ue.Problem != userfile.Missing {
		t.Errorf("Read of a missing file: %v", err)
	}
	if _, err := userfile.Create(t.Context(), filepath.Join(dir, "no", "r.csv")); !errors.As(err, &ue) || ue.Problem != userfile.NoDir {
		t.Errorf("Create in a missing directory: %v", err)
	}
	if _, err := userfile.Create(t.Context(), dir); !errors.As(err, &ue) || ue.Problem != userfile.IsDir {
		t.Errorf("Create of a directory: %v", err)
	}
	f, err := userfile.Create(t.Context(), filepath.Join(dir, "r.csv"))
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if b, err := userfile.Read(f.Name()); err != nil || len(b) != 0 {
		t.Errorf("Read = %q, %v", b, err)
	}
}

package report

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/tidings-mail/tidings/internal/userfile"
)

// WriteFile writes a report to path with write, into a file beside it that
// is renamed over path only once write returns nil: a report that fails
// (Redis away, no journal) never empties the one already there, which may
// be the only list of who was sent, nor does one written while Redis had
// lost chunks of the campaign (it lacks their rows): its error then says
// so. A path that is a symbolic link is the file it names (the link
// stays); one that is a pipe or a device (/dev/stdout, a FIFO) is written
// to as it is, never replaced. write's error is otherwise returned as it
// is, but for a full disk; an error of the file is a *userfile.Error
// naming path (never the file beside it). A new file is created with
// userfile.Perm; one written over keeps its permissions.
func WriteFile(ctx context.Context, path string, write func(io.Writer) error) error {
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return &userfile.Error{Path: path, Problem: userfile.IsDir}
	case err == nil && !fi.Mode().IsRegular():
		return writeStream(ctx, path, write)
	}
	file := linked(path)
	if err := notAnotherFile(path, file); err != nil {
		return err
	}
	perm := userfile.Perm // CreateTemp's too
	if err == nil {
		perm = fi.Mode().Perm() // a report written over keeps its permissions
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), filepath.Base(file)+".*.tmp")
	if err != nil {
		return userfile.Explain(path, true, err)
	}
	defer os.Remove(tmp.Name()) // after the rename: nothing
	defer tmp.Close()
	if err := tmp.Chmod(perm); err != nil {
		return userfile.Explain(path, true, err)
	}
	if err := write(tmp); err != nil {
		if lostChunks(err) && !full(err) {
			return fmt.Errorf("%w; nothing was written to %s, which is left as it was (it may be a full report saved before the loss)", err, path)
		}
		return explainFull(path, err)
	}
	if err = tmp.Close(); err == nil {
		err = os.Rename(tmp.Name(), file)
	}
	return userfile.Explain(path, true, err)
}

// notAnotherFile refuses to replace file (path as given) when it holds
// something else than a report (CSV of any version, JSON, or read from the
// journals) or nothing: the recipients file or the campaign file given to
// --out by mistake would be replaced by the report.
func notAnotherFile(path, file string) error {
	return userfile.Replaceable(path, file, "a report", "a report",
		strings.Join(Columns[:6], ","), strings.Join(JournalColumns[:4], ","), `{"campaign":`)
}

// linked is the file path names: the one a symbolic link points to (also
// when it does not exist yet), else path.
func linked(path string) string {
	if file, err := filepath.EvalSymlinks(path); err == nil {
		return file
	}
	file, err := os.Readlink(path)
	switch {
	case err != nil:
		return path
	case !filepath.IsAbs(file):
		return filepath.Join(filepath.Dir(path), file)
	}
	return file
}

// writeStream writes a report to path, a pipe or a device, as it is.
func writeStream(ctx context.Context, path string, write func(io.Writer) error) error {
	f, err := userfile.OpenStream(ctx, path) // a pipe nobody reads: refused, never waited on
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		_ = f.Close()
		return explainFull(path, err)
	}
	return userfile.Explain(path, true, f.Close())
}

func full(err error) bool { return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) }

// explainFull is write's error err as it is, but for a full disk: a
// *userfile.Error naming path.
func explainFull(path string, err error) error {
	if full(err) {
		return userfile.Explain(path, true, err) // the file beside path filled the disk
	}
	return err
}

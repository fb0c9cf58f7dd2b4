package report

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/tidings-mail/tidings/internal/userfile"
)

// WriteFile writes a report to path with write, into a file beside it that
// is renamed over path only once write returns nil: a report that fails
// (Redis away, no journal) never empties the one already there, which may
// be the only list of who was sent, nor does one written while Redis had
// lost chunks of the campaign (it lacks their rows): its error then says
// so. write's error is otherwise returned as it is, but for a full disk;
// an error of the file is a *userfile.Error naming path (never the file
// beside it).
func WriteFile(path string, write func(io.Writer) error) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return &userfile.Error{Path: path, Problem: userfile.IsDir}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return userfile.Explain(path, true, err)
	}
	defer os.Remove(tmp.Name()) // after the rename: nothing
	defer tmp.Close()
	if err := write(tmp); err != nil {
		if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
			return userfile.Explain(path, true, err) // the file beside path filled the disk
		}
		if lostChunks(err) {
			return fmt.Errorf("%w; nothing was written to %s, which is left as it was (it may be a full report saved before the loss)", err, path)
		}
		return err
	}
	if err = tmp.Close(); err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	return userfile.Explain(path, true, err)
}

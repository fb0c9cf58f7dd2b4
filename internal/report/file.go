package report

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFile writes a report to path with write, into a file beside it that
// is renamed over path only once write returns nil: a report that fails
// (Redis away, no journal) never empties the one already there, which may
// be the only list of who was sent. write's error is returned as it is.
func WriteFile(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("create report file: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename: nothing
	defer tmp.Close()
	if err := write(tmp); err != nil {
		return err
	}
	if err = tmp.Close(); err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write report file: %w", err)
	}
	return nil
}

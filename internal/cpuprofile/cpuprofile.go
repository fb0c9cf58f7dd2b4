// Package cpuprofile writes a CPU profile of a command to a file, and a
// heap profile at its end, for performance work.
package cpuprofile

import (
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
)

// Start starts a CPU profile written to path and returns the function that
// stops it and closes the file; with path empty it does nothing. With heap
// not empty, stop also writes there a heap profile: its in-use figures are
// what the last garbage collection found live (for a command that stages a
// file, the staging's last moments), its alloc figures every allocation of
// the command.
func Start(path, heap string) (stop func(), err error) {
	if heap != "" {
		f, err := os.Create(heap)
		if err != nil {
			return func() {}, fmt.Errorf("heap profile: %w", err)
		}
		stopCPU, err := Start(path, "")
		return func() {
			stopCPU()
			err := pprof.Lookup("heap").WriteTo(f, 0)
			if err = errors.Join(err, f.Close()); err != nil {
				fmt.Fprintln(os.Stderr, "tidings: heap profile:", err.Error())
			}
		}, err
	}
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		return func() {}, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

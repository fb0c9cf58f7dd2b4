// Package progress draws the progress bar of a long step (staging a
// campaign's recipients) on a terminal, and nothing anywhere else: the
// bar library lives here alone.
package progress

import (
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Bar counts the steps of one piece of work.
type Bar struct{ bar *progressbar.ProgressBar }

// New returns a bar for total steps (rows) doing what, drawn on w only when
// w is a terminal and the work is long enough to watch (10,000 steps).
func New(w io.Writer, total int64, what string) *Bar {
	f, tty := w.(*os.File)
	tty = tty && term.IsTerminal(int(f.Fd()))
	return &Bar{bar: progressbar.NewOptions64(total,
		progressbar.OptionSetVisibility(tty && total >= 10000),
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("rows"),
		progressbar.OptionThrottle(100e6),
		progressbar.OptionClearOnFinish(),
	)}
}

// Add counts one step done.
func (b *Bar) Add() { _ = b.bar.Add(1) }

// Set says n steps are done in all.
func (b *Bar) Set(n int) { _ = b.bar.Set(n) }

// Finish ends the bar (and clears it).
func (b *Bar) Finish() { _ = b.bar.Finish() }

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

// Lazy is a bar whose total is known only when the work first counts
// (a store operation that reports done of total as it goes): Count makes
// the bar then, drawn as New draws it.
type Lazy struct {
	w    io.Writer
	what string
	bar  *Bar
}

// NewLazy returns a Lazy bar doing what, drawn on w (see New).
func NewLazy(w io.Writer, what string) *Lazy { return &Lazy{w: w, what: what} }

// Count says done of total steps are done.
func (l *Lazy) Count(done, total int) {
	if l.bar == nil {
		l.bar = New(l.w, int64(total), l.what)
	}
	l.bar.Set(done)
}

// Finish ends the bar, if the work ever counted.
func (l *Lazy) Finish() {
	if l.bar != nil {
		l.bar.Finish()
	}
}

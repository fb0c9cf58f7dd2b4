package cli

import (
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progressBar is a progress bar that draws only on a terminal.
type progressBar struct{ b *progressbar.ProgressBar }

// progress returns a bar for total steps, drawn on stderr only when stderr
// is a terminal; otherwise every call is a no-op.
func (a *app) progress(total int64, what string) *progressBar {
	f, ok := a.stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || total < 10000 {
		return &progressBar{}
	}
	return &progressBar{b: progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("rows"),
		progressbar.OptionThrottle(100e6),
		progressbar.OptionClearOnFinish(),
	)}
}

// Add advances the bar by n.
func (p *progressBar) Add(n int) {
	if p.b != nil {
		_ = p.b.Add(n)
	}
}

// Finish completes the bar.
func (p *progressBar) Finish() {
	if p.b != nil {
		_ = p.b.Finish()
	}
}

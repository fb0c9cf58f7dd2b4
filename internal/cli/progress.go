package cli

import (
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress returns a bar for total steps, drawn on stderr only when stderr
// is a terminal and the work is long enough to watch.
func (a *app) progress(total int64, what string) *progressbar.ProgressBar {
	f, tty := a.stderr.(*os.File)
	tty = tty && term.IsTerminal(int(f.Fd()))
	return progressbar.NewOptions64(total,
		progressbar.OptionSetVisibility(tty && total >= 10000),
		progressbar.OptionSetWriter(a.stderr),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("rows"),
		progressbar.OptionThrottle(100e6),
		progressbar.OptionClearOnFinish(),
	)
}

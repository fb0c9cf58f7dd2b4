// Package confirm owns the confirmation a production send asks for: the
// campaign's name, typed at a terminal or given as --confirm.
package confirm

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// Production checks flag (the --confirm value) against the campaign name,
// or, with no flag, asks for the name to be typed at in, a terminal,
// saying on out that n messages go to production. Its errors are the
// user's to fix (exit 2).
func Production(in io.Reader, out io.Writer, name string, n int, flag string) error {
	if flag != "" {
		if flag != name {
			return fmt.Errorf("--confirm %q does not match the campaign name %q", flag, name)
		}
		return nil
	}
	f, ok := in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return fmt.Errorf("this is a production environment: pass --confirm %s to send without a terminal", name)
	}
	return Typed(f, out, name, n)
}

// Typed asks on out for the campaign name and reads one line of in.
func Typed(in io.Reader, out io.Writer, name string, n int) error {
	fmt.Fprintf(out, "\nThis sends %d messages in PRODUCTION. Type the campaign name (%s) to confirm: ", n, name)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		return errors.New("not confirmed: nothing typed")
	}
	if strings.TrimSpace(line) != name {
		return fmt.Errorf("not confirmed: you typed %q, the campaign is %q", strings.TrimSpace(line), name)
	}
	return nil
}

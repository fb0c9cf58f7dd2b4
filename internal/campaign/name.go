package campaign

import (
	"fmt"
	"os"
)

// NameError says that Arg, given where a campaign's name is asked for, is
// no campaign's name: a file (a campaign file when Name, its campaign's
// name, is known), or a spelling no campaign may have.
type NameError struct {
	Arg, Name string
	File      bool
	// DidYouMean is the names it may have meant, worded (` (did you mean
	// "a"?)`), said when it is no file.
	DidYouMean string
}

func (e *NameError) Error() string {
	switch {
	case e.Name != "":
		return fmt.Sprintf("%q is a campaign file: give its campaign's name, %q (its name:), not the file", e.Arg, e.Name)
	case e.File:
		return fmt.Sprintf("%q is a file, not a campaign's name: give the name: of the campaign file the campaign was sent from", e.Arg)
	}
	return fmt.Sprintf("%q is not a campaign's name%s: a name is 1-63 lower-case letters, digits and '-' (the name: of its campaign file)", e.Arg, e.DidYouMean)
}

// CheckName returns nil when arg may be a campaign's name, else a
// *NameError; didYouMean words names arg may have meant (or "").
func CheckName(arg, didYouMean string) error {
	if nameRE.MatchString(arg) {
		return nil
	}
	e := &NameError{Arg: arg, DidYouMean: didYouMean}
	fi, err := os.Stat(arg)
	if err != nil || !fi.Mode().IsRegular() { // never a pipe to wait on
		return e
	}
	e.File = true
	if fi.Size() > 1<<20 {
		return e
	}
	if data, err := os.ReadFile(arg); err == nil {
		if c, err := Parse(data, arg); err == nil {
			e.Name = c.Name
		}
	}
	return e
}

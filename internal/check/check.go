// Package check implements `tidings check`: it lints templates and catalogs
// with render.Inspect and prints compiler-style "file:line: message" lines
// followed by a summary table per language, so that it can run as a CI step.
package check

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/tidings-mail/tidings/internal/render"
)

// Options configures Run.
type Options struct {
	// TemplatesDir and LocalesDir are the directories to check (defaults
	// "templates" and "locales"). They name the files in the output, and are
	// opened with os.DirFS unless Templates or Locales is set.
	TemplatesDir string
	LocalesDir   string
	// Templates and Locales, when set, are read instead of the directories
	// (the bundled sample, tests).
	Templates fs.FS
	Locales   fs.FS
	// Template limits the check to one template directory (a campaign's
	// template); empty checks every template.
	Template string
	// DefaultLocale is the language the templates were written in (default
	// "en"); translations are compared with it.
	DefaultLocale string
	// Strict counts warnings (unused keys, superfluous plural forms) as
	// problems too.
	Strict bool
}

// Run checks the templates and catalogs, writes the findings and the summary
// to w, and returns the number of problems (errors, plus warnings when
// Strict). The error is non-nil only when the input cannot be checked at all
// (missing directory, unknown template, unparsable template or catalog); it
// names the file and says what to do, and a *render.FileError in it carries
// the on-disk path.
func Run(ctx context.Context, w io.Writer, opts Options) (problems int, err error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("check: %w", err)
	}
	if opts.TemplatesDir == "" {
		opts.TemplatesDir = "templates"
	}
	if opts.LocalesDir == "" {
		opts.LocalesDir = "locales"
	}
	if opts.DefaultLocale == "" {
		opts.DefaultLocale = "en"
	}
	tfs, err := dirFS(opts.Templates, opts.TemplatesDir, "templates", "--templates DIR")
	if err != nil {
		return 0, err
	}
	lfs, err := dirFS(opts.Locales, opts.LocalesDir, "locales", "--locales DIR")
	if err != nil {
		return 0, err
	}
	var names []string
	if opts.Template != "" {
		names = []string{opts.Template}
	}
	rep, err := render.Inspect(tfs, lfs, opts.DefaultLocale, names...)
	if err != nil {
		var fe *render.FileError
		if errors.As(err, &fe) {
			return 0, &render.FileError{File: opts.path(fe.File), Line: fe.Line, Key: fe.Key, Msg: fe.Msg}
		}
		return 0, fmt.Errorf("check %s and %s: %w", opts.TemplatesDir, opts.LocalesDir, err)
	}

	errs, warns := 0, 0
	for _, p := range rep.Problems {
		if p.Severity == render.SeverityError {
			errs++
		} else {
			warns++
		}
		p.File = opts.path(p.File)
		for _, l := range rep.Languages {
			p.Msg = strings.ReplaceAll(p.Msg, l.File, opts.path(l.File))
		}
		if _, err := fmt.Fprintln(w, p.String()); err != nil {
			return 0, fmt.Errorf("check: write output: %w", err)
		}
	}
	if len(rep.Problems) > 0 {
		fmt.Fprintln(w)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LANG\tFILE\tKEYS\tMISSING\tPLURAL\tERRORS\tWARNINGS\tSTATUS")
	for _, l := range rep.Languages {
		lang := l.Lang
		if l.Lang == rep.Default {
			lang += " (default)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n", lang, opts.path(l.File), l.Keys, l.Missing, l.PluralProblems, l.Errors, l.Warnings, l.Status)
	}
	if err := tw.Flush(); err != nil {
		return 0, fmt.Errorf("check: write output: %w", err)
	}
	problems = errs
	if opts.Strict {
		problems += warns
	}
	verdict := "ok"
	if problems > 0 {
		verdict = "FAILED"
	}
	fmt.Fprintf(w, "\ncheck %s: %d template(s), %d language(s), %d error(s), %d warning(s)\n", verdict, len(rep.Templates), len(rep.Languages), errs, warns)
	return problems, nil
}

// path maps a render file name to the directory it was read from.
func (o Options) path(name string) string {
	return render.ResolvePath(name, o.TemplatesDir, o.LocalesDir)
}

// dirFS returns fsys, or the directory dir after checking that it exists.
func dirFS(fsys fs.FS, dir, what, flag string) (fs.FS, error) {
	if fsys != nil {
		return fsys, nil
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("check: %s directory %s does not exist; pass %s or run tidings check where %s/ is", what, dir, flag, what)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("check: %s %s is not a directory; pass %s", what, dir, flag)
	}
	return os.DirFS(dir), nil
}

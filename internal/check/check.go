// Package check lints templates and catalogs with render.Inspect: its
// Result is written as compiler-style "file:line: message" lines followed by
// a summary table per language, so that it can run as a CI step, or as JSON.
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

	"github.com/tidings-mail/tidings/internal/bundle"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/internal/unsubscribe"
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
	// Campaign, when set, is a campaign file: its template, directories and
	// default language are checked, and what is wrong with them is an error
	// naming the campaign file (its line, for a language without catalog).
	Campaign string
}

// Result is what Inspect found: render.Report with every file named by
// the directory it was read from, and the counts.
type Result struct {
	render.Report
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	// Counted is what fails the check: Errors, plus Warnings when
	// Options.Strict.
	Counted int `json:"counted"`
}

// DirError says that a directory to check does not exist or is not a
// directory. What is "templates" or "locales".
type DirError struct {
	What, Dir string
	NotDir    bool // it exists, but is not a directory
}

// Error says what went wrong.
func (e *DirError) Error() string {
	if e.NotDir {
		return fmt.Sprintf("check: %s %s is not a directory", e.What, e.Dir)
	}
	return fmt.Sprintf("check: %s directory %s does not exist", e.What, e.Dir)
}

// Run checks the templates and catalogs (Inspect), writes the findings and
// the summary to w (Result.WriteText), and returns the number of problems.
func Run(ctx context.Context, w io.Writer, opts Options) (problems int, err error) {
	res, err := Inspect(ctx, opts)
	if err != nil {
		return 0, err
	}
	return res.Counted, res.WriteText(w)
}

// Inspect checks the templates and catalogs. The error is non-nil only when
// the input cannot be checked at all: a missing directory (*DirError), an
// unknown template, no template or catalog. A template or catalog that
// does not parse is a problem like the others, with its on-disk path.
func Inspect(ctx context.Context, opts Options) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	if opts.Campaign != "" {
		return inspectCampaign(ctx, opts)
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
	tfs, err := dirFS(opts.Templates, opts.TemplatesDir, "templates")
	if err != nil {
		return nil, err
	}
	lfs, err := dirFS(opts.Locales, opts.LocalesDir, "locales")
	if err != nil {
		return nil, err
	}
	var names []string
	if opts.Template != "" {
		names = []string{opts.Template}
	}
	rep, err := render.Inspect(tfs, lfs, opts.DefaultLocale, names...)
	if err != nil {
		return nil, fmt.Errorf("check %s and %s: %w", opts.TemplatesDir, opts.LocalesDir, err)
	}
	res := &Result{Report: *rep}
	res.Report.Problems = nil
	for _, p := range rep.Problems {
		if p.Severity == render.SeverityError {
			res.Errors++
		} else {
			res.Warnings++
		}
		p.File = opts.path(p.File)
		for _, l := range rep.Languages {
			p.Msg = strings.ReplaceAll(p.Msg, l.File, opts.path(l.File))
		}
		res.Report.Problems = append(res.Report.Problems, p)
	}
	res.Languages = []render.LanguageSummary{} // [] in JSON, never null
	for _, l := range rep.Languages {
		l.File = opts.path(l.File)
		res.Languages = append(res.Languages, l)
	}
	res.Counted = res.Errors
	if opts.Strict {
		res.Counted += res.Warnings
	}
	return res, nil
}

// inspectCampaign is Inspect of the campaign file opts.Campaign, whose
// directories, default language and locale policy are checked as send
// checks them (bundle.Load: its errors, said at the campaign file's keys);
// a template that does not parse is a problem of the report, not an error.
func inspectCampaign(ctx context.Context, opts Options) (*Result, error) {
	b, err := bundle.Load(opts.Campaign)
	if errors.As(err, new(*render.FileError)) {
		b, err = bundle.LoadFile(opts.Campaign) // the file's problem is reported below
	}
	if err != nil {
		return nil, err
	}
	c := b.Campaign
	opts.TemplatesDir, opts.LocalesDir, opts.DefaultLocale, opts.Template = c.Path(c.TemplatesDir), c.Path(c.LocalesDir), c.DefaultLocale, c.Template
	opts.Campaign = ""
	res, err := Inspect(ctx, opts)
	if err != nil {
		return nil, b.KeyError(fmt.Errorf("%s: %w", b.File, err))
	}
	data := dataWarnings(b, opts)
	res.Problems = append(res.Problems, data...)
	res.Warnings += len(data)
	if err := unsubscribe.NamesRecipient(c.ListUnsubscribe); err != nil { // send refuses it (launch.Plan)
		res.Problems = append(res.Problems, render.Problem{File: b.File, Line: c.Line("list_unsubscribe"), Key: "list_unsubscribe",
			Severity: render.SeverityError, Msg: "list_unsubscribe: " + err.Error()})
		res.Errors++
		res.Counted++
	}
	if opts.Strict {
		res.Counted = res.Errors + res.Warnings
	}
	return res, nil
}

// dataWarnings are the warnings of b's data (render.InspectData), read
// from opts's directories, at the campaign file's lines.
func dataWarnings(b *bundle.Bundle, opts Options) []render.Problem {
	c := b.Campaign
	var ps []render.Problem
	for _, d := range render.InspectData(os.DirFS(opts.TemplatesDir), os.DirFS(opts.LocalesDir), opts.DefaultLocale, opts.Template, c.Data) {
		ps = append(ps, dataProblem(d, b.File, c.Line(append([]string{"data"}, d.Path...)...), opts))
	}
	return ps
}

// DataWarnings are the warnings check CAMPAIGN gives of the data of b, a
// loaded campaign: prose sent as it is to recipients of several
// languages, as "file:line: warning: ..." problems. send prints them
// (WriteWarnings) before it stages, and stages all the same.
func DataWarnings(b *bundle.Bundle) []render.Problem {
	c := b.Campaign
	return dataWarnings(b, Options{TemplatesDir: c.Path(c.TemplatesDir), LocalesDir: c.Path(c.LocalesDir), DefaultLocale: c.DefaultLocale, Template: c.Template})
}

// WriteWarnings writes a summary of ps, warnings of check's, to w: how
// many, the first max of them, and that check CAMPAIGN (file) lists them
// all. Nothing when there is none.
func WriteWarnings(w io.Writer, file string, ps []render.Problem, max int) error {
	if len(ps) == 0 {
		return nil
	}
	n := fmt.Sprintf("%d warnings", len(ps))
	if len(ps) == 1 {
		n = "1 warning"
	}
	if _, err := fmt.Fprintf(w, "\nCheck: %s (a warning does not stop the send):\n", n); err != nil {
		return fmt.Errorf("write warnings: %w", err)
	}
	for _, p := range ps[:min(max, len(ps))] {
		if _, err := fmt.Fprintf(w, "  %s\n", p); err != nil {
			return fmt.Errorf("write warnings: %w", err)
		}
	}
	if len(ps) > max {
		if _, err := fmt.Fprintf(w, "  ... and %d more: 'tidings check %s' lists them all\n", len(ps)-max, file); err != nil {
			return fmt.Errorf("write warnings: %w", err)
		}
	}
	return nil
}

// dataProblem warns, at line of the campaign file, of the data value d:
// prose sent as it is to recipients of several languages.
func dataProblem(d render.DataProse, file string, line int, opts Options) render.Problem {
	key := "data." + strings.Join(d.Path, ".")
	return render.Problem{File: file, Line: line, Key: key, Severity: render.SeverityWarning,
		Msg: fmt.Sprintf("%s is prose (%q) sent as it is to the recipients of %s (printed by %s:%d): data is not translated, so some of them get a text not in their language; put it in a message of every catalog ({{t \"key\" .}}) and keep in data what is the same in every language (a URL, a name)",
			key, d.Text, strings.Join(d.Langs, ", "), opts.path(d.File), d.Line)}
}

// WriteText writes the findings as "file:line: message" lines, a summary
// table per language and the verdict.
func (r *Result) WriteText(w io.Writer) error {
	for _, p := range r.Report.Problems {
		if _, err := fmt.Fprintln(w, p.String()); err != nil {
			return fmt.Errorf("check: write output: %w", err)
		}
	}
	if len(r.Report.Problems) > 0 {
		fmt.Fprintln(w)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LANG\tFILE\tKEYS\tMISSING\tPLURAL\tERRORS\tWARNINGS\tSTATUS")
	for _, l := range r.Languages {
		lang := l.Lang
		if l.Lang == r.Default {
			lang += " (default)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n", lang, l.File, l.Keys, l.Missing, l.PluralProblems, l.Errors, l.Warnings, l.Status)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("check: write output: %w", err)
	}
	verdict := "ok"
	if r.Counted > 0 {
		verdict = "FAILED"
	}
	if _, err := fmt.Fprintf(w, "\ncheck %s: %d template(s), %d language(s), %d error(s), %d warning(s)\n", verdict, len(r.Templates), len(r.Languages), r.Errors, r.Warnings); err != nil {
		return fmt.Errorf("check: write output: %w", err)
	}
	return nil
}

// path maps a render file name to the directory it was read from.
func (o Options) path(name string) string {
	return render.ResolvePath(name, o.TemplatesDir, o.LocalesDir)
}

// dirFS returns fsys, or the directory dir after checking that it exists.
func dirFS(fsys fs.FS, dir, what string) (fs.FS, error) {
	if fsys != nil {
		return fsys, nil
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, &DirError{What: what, Dir: dir}
	}
	if !st.IsDir() {
		return nil, &DirError{What: what, Dir: dir, NotDir: true}
	}
	return os.DirFS(dir), nil
}

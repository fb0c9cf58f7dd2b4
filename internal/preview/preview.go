// Package preview renders a campaign's template in every catalog language and
// writes a gallery that QA can open in a browser: one .eml, .html and .txt per
// language and an index.html showing every language side by side, with a red
// banner on every language that is incomplete or that recipients need but no
// catalog covers.
package preview

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/tidings-mail/tidings/internal/plan"
	"github.com/tidings-mail/tidings/internal/recipient"
	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/userfile"
)

// Sample is the data used to render one language when no real recipient of
// that language exists.
type Sample struct {
	Name   string            `json:"name"`
	Email  string            `json:"email"`
	Fields map[string]string `json:"fields"`
}

// Recipient is one real recipient offered to the preview, in file order:
// a valid row of the recipients file as package recipient reads it.
type Recipient = recipient.Recipient

// Composer builds the complete message a worker sends to one recipient,
// and says the URL of its List-Unsubscribe for the body's .Unsubscribe;
// worker.NewComposer(campaign, secret) is one.
type Composer interface {
	// Link is the recipient's List-Unsubscribe URL: its Web is the body's
	// .Unsubscribe, and Message writes the header from it.
	Link(id, email string) send.Link
	Message(id, email, name string, link send.Link, out render.Rendered, now time.Time) *send.Message
}

// DefaultSamples is the preview's data for a language no recipient has: a
// name in that language's script, so that the preview shows how it looks
// ("" for any other language).
func DefaultSamples() map[string]Sample {
	s := func(name, email, posts string) Sample {
		return Sample{Name: name, Email: email, Fields: map[string]string{"posts": posts}}
	}
	return map[string]Sample{
		"":   s("Sample Recipient", "sample@example.org", "3"),
		"en": s("Ada Lovelace", "ada@example.org", "1"),
		"de": s("Jürg Müller", "juerg@example.org", "3"),
		"fr": s("Zoë Dupont", "zoe@example.org", "2"),
		"it": s("Niccolò Rossi", "niccolo@example.org", "5"),
		"es": s("Lucía Fernández", "lucia@example.org", "1"),
		"ja": s("山田 太郎", "taro@example.org", "3"),
		"ar": s("ليلى حداد", "layla@example.org", "11"),
		"ru": s("Иван Петров", "ivan@example.org", "21"),
		"pl": s("Łucja Wójcik", "lucja@example.org", "22"),
		"pt": s("João Silva", "joao@example.org", "2"),
	}
}

// Options configures a preview run.
type Options struct {
	Engine   *render.Engine
	Campaign string
	// Data is the campaign's global template data.
	Data map[string]any
	// Recipients yields the campaign's valid recipients one by one (io.EOF
	// at the end; invalid rows are the plan's business and are skipped by
	// the caller); nil when no recipients file is available.
	Recipients func() (Recipient, error)
	// Plan is what the plan of the recipients file found per language
	// (plan.Summary.Samples): a language is rendered with its first
	// accepted row, and its invalid rows are said; a language with invalid
	// rows only is flagged. Nil: sample data for every language.
	Plan map[string]*plan.Sample
	// RecipientsName names the recipients file in the gallery.
	RecipientsName string
	// Samples holds fallback data per language ("" for any language).
	Samples map[string]Sample
	// Out is the directory to write the gallery into; it is created.
	Out string
	// Composer builds the complete message written as <lang>.eml; nil
	// writes no .eml.
	Composer Composer
	// Now is the time stamped on the gallery.
	Now time.Time
}

// Language is the preview of one catalog language, or of a requested locale
// that no catalog covers.
type Language struct {
	Lang    string
	Covered bool
	Problem string // why the language is not usable, empty when covered
	// Fix says what to do about an incomplete catalog: the messages to
	// add and its file (empty otherwise).
	Fix string
	// Unshown says why a covered language has nothing to show: no
	// recipient of it is in the campaign, and the sample data cannot render
	// its message (empty when shown).
	Unshown string
	Source  string // which recipient (file:line) or sample was used
	// Catalog names the catalog file when its name spells the language
	// otherwise: "locales/iw.toml (its name, iw, is he)".
	Catalog string
	Subject string
	// Needed counts the recipients file's rows whose locale matched this
	// language, before the plan's checks (rows the plan finds invalid or
	// refuses included): the table's ROWS.
	Needed int
	// Invalid counts the rows of this language the plan counts invalid
	// (the template cannot be rendered with them): not sent, though the
	// language is; InvalidFirst says the first ("file:line: reason").
	Invalid      int
	InvalidFirst string
	Refused      int // recipients refused for this locale (uncovered entries)
	Requested    string
	HTMLFile     string
	TextFile     string
	EMLFile      string
	Text         string
}

// Result is what a preview produced.
type Result struct {
	Languages []Language
	// Uncovered lists requested locales that recipients need but that no
	// complete catalog covers: each is a reason to fix before sending.
	Uncovered []Language
	Index     string
	// Stale names the files of a gallery written before the manifest
	// (Manifest) that the preview kept: a language's name that no index
	// of tidings linked, which an earlier gallery may have written, or the
	// user did (paths in the gallery's directory, sorted).
	Stale []string
}

// StaleNote says what the preview kept of a gallery written before the
// manifest in directory dir (Stale), and what to do; "" when nothing.
func (r *Result) StaleNote(dir string) string {
	if len(r.Stale) == 0 {
		return ""
	}
	n, it := fmt.Sprintf("%d files named like a language's were kept", len(r.Stale)), "them if they are"
	if len(r.Stale) == 1 {
		n, it = "1 file named like a language's was kept", "it if it is"
	}
	return fmt.Sprintf("%s held a gallery written before tidings listed its files (%s): the files its %s linked were removed; %s, since tidings cannot tell whether it wrote %s: %s: remove %s an earlier gallery's, before QA opens the directory",
		dir, Manifest, indexFile, n, strings.Fields(it)[0], strings.Join(r.Stale, " "), it)
}

// NeedsAttention reports whether a language that recipients need is not covered.
func (r *Result) NeedsAttention() bool {
	if len(r.Uncovered) > 0 {
		return true
	}
	for _, l := range r.Languages {
		if !l.Covered && l.Needed > 0 {
			return true
		}
	}
	return false
}

// Run renders every language and writes the gallery.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if opts.Engine == nil {
		return nil, errors.New("preview: no template engine")
	}
	if err := userfile.Dir(opts.Out); err != nil {
		return nil, fmt.Errorf("preview output %w", err)
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	langs := opts.Engine.Languages()
	byLang := make(map[string]*Language, len(langs))
	res := &Result{}
	for _, c := range langs {
		l := Language{Lang: c.Lang, Covered: c.Covered}
		l.Catalog = c.Spelled()
		if !c.Covered {
			l.Problem = "incomplete: " + c.Lang + " lacks " + strings.Join(c.Missing, ", ")
			l.Fix = "add " + strings.Join(c.Missing, ", ") + " to " + c.File + ", then run preview again"
		}
		res.Languages = append(res.Languages, l)
	}
	for i := range res.Languages {
		byLang[res.Languages[i].Lang] = &res.Languages[i]
	}

	// One real recipient per language, and the locales nobody covers.
	chosen := map[string]Recipient{}
	uncovered := map[string]*Language{}
	if opts.Recipients != nil {
		for {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			r, err := opts.Recipients()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("read recipients: %w", err)
			}
			m, err := opts.Engine.Resolve(r.Locale)
			if err != nil {
				var ref *render.Refusal
				if !errors.As(err, &ref) {
					return nil, fmt.Errorf("resolve locale of %s line %d: %w", opts.RecipientsName, r.Line, err)
				}
				// A locale that matched an incomplete catalog belongs to
				// that language's card, which carries the banner.
				if l := byLang[ref.Lang]; ref.Lang != "" && l != nil {
					l.Needed++
					continue
				}
				key := ref.Reason
				u := uncovered[key]
				if u == nil {
					u = &Language{Lang: "-", Requested: r.Locale, Problem: ref.Reason}
					uncovered[key] = u
				}
				u.Refused++
				continue
			}
			if l := byLang[m.Lang]; l != nil {
				l.Needed++
			}
		}
	}
	// The language is shown with a row that is sent: the plan's first
	// accepted one, never one it counts invalid.
	for lang, sm := range opts.Plan {
		if sm.First != nil {
			chosen[lang] = sm.First.Recipient
		}
		if l := byLang[lang]; l != nil && sm.Invalid > 0 {
			l.Invalid = sm.Invalid
			l.InvalidFirst = fmt.Sprintf("%s:%d: %s", opts.RecipientsName, sm.FirstInvalid.Line, sm.FirstInvalid.Reason)
			if l.Covered && sm.First == nil {
				l.Covered = false
				l.Problem = fmt.Sprintf("invalid: none of its %d row(s) can be rendered, so none is sent (the first: %s)", sm.Invalid, l.InvalidFirst)
			}
		}
	}
	for _, u := range uncovered {
		res.Uncovered = append(res.Uncovered, *u)
	}
	sort.Slice(res.Uncovered, func(i, j int) bool { return res.Uncovered[i].Problem < res.Uncovered[j].Problem })

	var files galleryFiles
	for i := range res.Languages {
		l := &res.Languages[i]
		if !l.Covered {
			continue
		}
		d, src := sampleData(opts, l.Lang, chosen)
		var link send.Link
		if opts.Composer != nil {
			link = opts.Composer.Link(d.ID, d.Email)
			d.Unsubscribe = link.Web()
		}
		l.Source = src
		m := render.Match{Requested: l.Lang, Lang: l.Lang, Via: "exact"}
		r, picked := chosen[l.Lang]
		if picked {
			m.Requested = r.Locale
		}
		out, err := opts.Engine.Render(m, d)
		if re := (*render.RenderError)(nil); err != nil && !picked && errors.As(err, &re) && (re.Cause == render.CauseMissingColumn || re.Cause == render.CauseBadCount) {
			// Made-up data, not the campaign's, lacks what the template
			// reads of a recipient: nobody of this language is in the
			// campaign, and this says nothing of what is sent (as the
			// console's gallery says).
			l.Unshown = "nothing to show: the campaign has no recipient of this language, and the sample data cannot render its message: " + err.Error()
			continue
		}
		if err != nil {
			var ref *render.Refusal
			if errors.As(err, &ref) {
				l.Covered = false
				l.Problem = ref.Reason
				continue
			}
			l.Covered = false
			l.Problem = "render error: " + err.Error()
			continue
		}
		l.Subject = out.Subject
		l.Text = out.Text
		l.HTMLFile = l.Lang + ".html"
		l.TextFile = l.Lang + ".txt"
		files.add(l.HTMLFile, []byte(out.HTML))
		files.add(l.TextFile, []byte(out.Text))
		if opts.Composer != nil {
			// The message a worker sends this recipient: the id, address
			// and name the template was rendered with.
			var b bytes.Buffer
			if _, err := opts.Composer.Message(d.ID, d.Email, d.Name, link, out, opts.Now).WriteTo(&b); err != nil {
				return nil, fmt.Errorf("build %s.eml: %w", l.Lang, err)
			}
			// The subject shown is the one in that message, as a mail
			// client decodes it.
			shown, err := send.Show(b.Bytes())
			if err != nil {
				return nil, fmt.Errorf("read %s.eml back: %w", l.Lang, err)
			}
			l.Subject = shown.Subject
			l.EMLFile = l.Lang + ".eml"
			files.add(l.EMLFile, b.Bytes())
		}
	}
	var index bytes.Buffer
	if err := gallery.Execute(&index, galleryData{Campaign: opts.Campaign, Recipients: opts.RecipientsName, Now: opts.Now.UTC().Format(time.RFC3339), Result: res}); err != nil {
		return nil, fmt.Errorf("write gallery: %w", err)
	}
	files.add(indexFile, index.Bytes()) // last: it links the others
	res.Index = filepath.Join(opts.Out, indexFile)
	stale, err := files.write(ctx, opts.Out)
	if err != nil {
		return nil, err
	}
	res.Stale = stale
	return res, nil
}

// sampleData is the data lang is rendered with, the recipient's id,
// address and name included (a worker composes the message from the same),
// and where it comes from.
func sampleData(opts Options, lang string, chosen map[string]Recipient) (render.Data, string) {
	if r, ok := chosen[lang]; ok {
		return render.Data{ID: r.ID, Email: r.Email, Name: r.Name, Campaign: opts.Campaign, Fields: r.Fields, Data: opts.Data},
			fmt.Sprintf("%s:%d (%s)", opts.RecipientsName, r.Line, r.Email)
	}
	s, ok := opts.Samples[lang]
	if !ok {
		s = opts.Samples[""]
	}
	if s.Email == "" {
		s.Email = "sample@example.org"
	}
	if s.Name == "" {
		s.Name = "Sample Recipient"
	}
	return render.Data{ID: s.Email, Email: s.Email, Name: s.Name, Campaign: opts.Campaign, Fields: s.Fields, Data: opts.Data},
		"sample data (no recipient of this language)"
}

// WriteTable prints one line per language: what QA reads in a terminal.
func (r *Result) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "%-8s %-11s %-7s %s\n", "LANG", "STATUS", "ROWS", "SUBJECT / PROBLEM")
	for _, l := range r.Languages {
		status, detail := "ok", l.Subject
		switch {
		case !l.Covered && l.Invalid > 0:
			status, detail = "INVALID", l.Problem
		case !l.Covered:
			status, detail = "INCOMPLETE", l.Problem
		case l.Unshown != "":
			detail = l.Unshown
		case l.Invalid > 0:
			detail += fmt.Sprintf(" [%d row(s) of %s invalid, not sent; the first: %s]", l.Invalid, l.Lang, l.InvalidFirst)
		}
		if l.Catalog != "" {
			detail += " [catalog " + l.Catalog + "]"
		}
		fmt.Fprintf(w, "%-8s %-11s %-7d %s\n", l.Lang, status, l.Needed, detail)
	}
	for _, u := range r.Uncovered {
		fmt.Fprintf(w, "%-8s %-11s %-7d %s (e.g. locale %q)\n", "-", "REFUSED", u.Refused, u.Problem, u.Requested)
	}
	// Needed counts the rows Run read, not what the plan sends.
	fmt.Fprintln(w, "ROWS: the recipients file's rows whose locale resolves to the language (REFUSED: to none), before the plan's checks: rows it finds invalid or refuses are counted too; plan says which are sent.")
}

type galleryData struct {
	Campaign, Recipients, Now string
	Result                    *Result
}

var gallery = template.Must(template.New("index").Funcs(template.FuncMap{"dir": render.Direction}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>tidings preview: {{.Campaign}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:1rem;background:#f4f4f4;color:#222}
h1{font-size:1.3rem;margin:.2rem 0} .meta{color:#666;font-size:.85rem;margin-bottom:1rem}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:1rem}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;overflow:hidden;display:flex;flex-direction:column}
.card h2{font-size:1rem;margin:0;padding:.5rem .7rem;background:#eef;display:flex;justify-content:space-between}
.banner{background:#c62828;color:#fff;padding:.5rem .7rem;font-weight:600}
.field{padding:.3rem .7rem;font-size:.85rem;border-bottom:1px solid #eee}
.field b{display:inline-block;min-width:5.5rem;color:#555}
iframe{width:100%;height:420px;border:0;border-bottom:1px solid #eee;background:#fff}
pre{white-space:pre-wrap;margin:0;padding:.5rem .7rem;font-size:.8rem;max-height:260px;overflow:auto;background:#fafafa}
.ok{color:#2e7d32}.bad{color:#c62828}
</style></head><body>
<h1>Preview of campaign <code>{{.Campaign}}</code></h1>
<div class="meta">recipients: {{if .Recipients}}{{.Recipients}}{{else}}none given{{end}} · generated {{.Now}} · {{len .Result.Languages}} catalog languages</div>
{{range .Result.Uncovered}}<div class="banner">REFUSED: {{.Refused}} recipient(s) with locale “{{.Requested}}” and others like it — {{.Problem}}. They will not be sent anything.</div>
{{end}}
<div class="grid">
{{range .Result.Languages}}<section class="card" id="{{.Lang}}">
<h2><span>{{.Lang}}</span>{{if .Covered}}<span class="ok">covered · {{.Needed}} recipient(s)</span>{{else}}<span class="bad">not covered · {{.Needed}} recipient(s)</span>{{end}}</h2>
{{if .Catalog}}<div class="field"><b>Catalog</b> {{.Catalog}}</div>{{end}}
{{if not .Covered}}<div class="banner">NOT SENT — {{.Problem}}. {{if .Needed}}{{.Needed}} recipient(s) of this language are refused{{else}}Recipients of this language would be refused{{end}}{{with .Fix}}: {{.}}{{end}}.</div>{{else if .Unshown}}
<div class="field"><b>Recipient</b> {{.Source}}</div>
<div class="field">{{.Unshown}}</div>{{else}}
<div class="field"><b>Subject</b> <span dir="{{dir .Lang}}" lang="{{.Lang}}">{{.Subject}}</span></div>
<div class="field"><b>Recipient</b> {{.Source}}</div>
{{if .Invalid}}<div class="field bad"><b>Invalid rows</b> {{.Invalid}} row(s) of this language are invalid and not sent; the first: {{.InvalidFirst}}</div>{{end}}
<div class="field"><b>Files</b> <a href="{{.HTMLFile}}">{{.HTMLFile}}</a> · <a href="{{.TextFile}}">{{.TextFile}}</a>{{if .EMLFile}} · <a href="{{.EMLFile}}">{{.EMLFile}}</a>{{end}}</div>
<iframe src="{{.HTMLFile}}" title="HTML rendering for {{.Lang}}" sandbox></iframe>
<pre dir="{{dir .Lang}}" lang="{{.Lang}}">{{.Text}}</pre>{{end}}
</section>
{{end}}</div>
</body></html>
`))

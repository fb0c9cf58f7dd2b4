// Package campaign parses and validates a campaign file: the reviewed,
// versionable YAML description of one mailing.
//
// The file's keys (all but name, environment, template, recipients and from
// are optional; defaults in brackets):
//
//	name: altea-reregistration      # required; ^[a-z0-9][a-z0-9-]{0,62}$
//	environment: production          # required; the only environment it may be sent in
//	template: welcome                # required; templates_dir/<template>/
//	templates_dir: templates         # [templates] relative to the campaign file
//	locales_dir: locales             # [locales]   relative to the campaign file
//	default_locale: en               # [en] the language the template was written in
//	recipients: recipients.csv       # required; CSV or JSONL, relative to the file
//	from: "Altea <community@altea.example>"  # required; RFC 5322, display name optional, and SMTP must carry it
//	reply_to: support@altea.example  # optional; as from
//	list_unsubscribe: https://altea.example/unsubscribe?id={id}  # optional http(s) or mailto URL; placeholders {id}, {email}
//	locale_policy:
//	  aliases: { gsw: de }           # requested locale -> catalog language
//	  missing_locale: refuse         # [refuse] or a catalog language for locales that name no language
//	batches:
//	  canary_per_locale: 2           # [0] recipients of every covered language in the canary
//	  size: 500                      # [500] recipients per regular batch
//	  interval: 1m                   # [1m] after a batch's first pass; 0s sends batches back to back
//	  approve_after_canary: true     # [false] wait for `tidings approve` after the canary
//	  max_failure_rate: 0.05         # [auto_pause.error_rate] gate checked after each batch
//	rate: 20/s                       # [unlimited] N/s, N/m, N/h, N/<duration of 1s or more>, 0 or unlimited
//	auto_pause:
//	  error_rate: 0.05               # [0.05] pause when this share of the window failed
//	  window: 200                    # [200] the last attempts across all workers
//	  min_attempts: 20               # [min(window, 20)] attempts before the rule applies
//	retry:
//	  max_attempts: 5                # [5] attempts for temporary failures
//	  backoff: 30s                   # [30s] first delay, doubled on each attempt
//	data:                            # global template data, .Data.<key>
//	  reregister_url: https://altea.example/re-register
//
// Unknown keys are errors with file:line, so a misspelt safety setting can
// never be silently ignored.
package campaign

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/tidings-mail/tidings/internal/yamlnode"
)

// Defaults of a campaign file's optional keys.
const (
	DefaultTemplatesDir   = "templates"
	DefaultLocalesDir     = "locales"
	DefaultLocale         = "en"
	DefaultMissingLocale  = "refuse"
	DefaultBatchSize      = 500
	DefaultInterval       = time.Minute
	DefaultErrorRate      = 0.05
	DefaultWindow         = 200
	DefaultMaxAttempts    = 5
	DefaultBackoff        = 30 * time.Second
	defaultMinAttemptsCap = 20
)

// Campaign is a campaign file. The same struct is the file's YAML, the
// definition's JSON (see Definition) and what the rest of tidings reads;
// after Parse or FromDefinition every default is applied and every field
// validated.
type Campaign struct {
	Name            string         `yaml:"name" json:"name"`
	Environment     string         `yaml:"environment" json:"environment"`
	Template        string         `yaml:"template" json:"template"`
	TemplatesDir    string         `yaml:"templates_dir" json:"templates_dir"`
	LocalesDir      string         `yaml:"locales_dir" json:"locales_dir"`
	DefaultLocale   string         `yaml:"default_locale" json:"default_locale"`
	Recipients      string         `yaml:"recipients" json:"recipients"`
	From            string         `yaml:"from" json:"from"`
	ReplyTo         string         `yaml:"reply_to" json:"reply_to"`
	ListUnsubscribe string         `yaml:"list_unsubscribe" json:"list_unsubscribe"`
	LocalePolicy    LocalePolicy   `yaml:"locale_policy" json:"locale_policy"`
	Batches         Batches        `yaml:"batches" json:"batches"`
	Rate            Rate           `yaml:"rate" json:"rate"`
	AutoPause       AutoPause      `yaml:"auto_pause" json:"auto_pause"`
	Retry           Retry          `yaml:"retry" json:"retry"`
	Data            map[string]any `yaml:"data" json:"data"`

	// File is the campaign file's name as given to Parse.
	File string `yaml:"-" json:"file"`
	// Dir is the directory of File; relative paths resolve against it.
	Dir string `yaml:"-" json:"dir"`

	line func(path ...string) int  // the file's line of a key (Parse), for Line
	has  func(path ...string) bool // whether the file wrote a key (Parse), for Wrote
}

// Wrote reports whether the file Parse read gives the key at path a
// value (false for a campaign not read from a file): list_unsubscribe
// may be the environment's (bundle.Bundle.UseEnv).
func (c *Campaign) Wrote(path ...string) bool {
	return c.has != nil && c.has(path...)
}

// Line returns the line of the key at path (e.g. "locale_policy",
// "aliases", "gsw") in the file Parse read, or 0 when unknown.
func (c *Campaign) Line(path ...string) int {
	if c.line == nil {
		return 0
	}
	return c.line(path...)
}

// LocalePolicy holds the campaign's explicit locale mappings.
type LocalePolicy struct {
	// Aliases maps a requested locale (compared case-insensitively by the
	// locale rule) to a catalog language, e.g. gsw: de.
	Aliases map[string]string `yaml:"aliases" json:"aliases"`
	// MissingLocale is "refuse" or the catalog language used for empty
	// locales and those that name no language (not for de_CH.UTF-8, which
	// names one without parsing: render.Engine's rule).
	MissingLocale string `yaml:"missing_locale" json:"missing_locale"`
}

// Batches is the batch plan: a canary, then regular batches.
type Batches struct {
	CanaryPerLocale int `yaml:"canary_per_locale" json:"canary_per_locale"`
	Size            int `yaml:"size" json:"size"`
	// Interval is the wait after a batch's first pass completed before the
	// next batch is released; 0 sends batches back to back. Its JSON is a
	// Go duration string ("1m0s"): see MarshalJSON.
	Interval           time.Duration `yaml:"interval" json:"-"`
	ApproveAfterCanary bool          `yaml:"approve_after_canary" json:"approve_after_canary"`
	// MaxFailureRate is the share of failed attempts in a finished batch
	// above which the next batch does not start.
	MaxFailureRate float64 `yaml:"max_failure_rate" json:"max_failure_rate"`
}

// Duration returns how long sending n recipients takes at perSecond
// messages a second when releases batches are still to be released: each
// release waits Interval after the previous batch's first pass completed.
// perSecond 0 (an unlimited rate) counts the intervals alone.
func (b Batches) Duration(n int64, perSecond float64, releases int) time.Duration {
	d := time.Duration(releases) * b.Interval
	if perSecond > 0 {
		d += time.Duration(float64(n) / perSecond * float64(time.Second))
	}
	return d
}

// AutoPause is the sliding-window error rule applied during a batch.
type AutoPause struct {
	ErrorRate   float64 `yaml:"error_rate" json:"error_rate"`
	Window      int     `yaml:"window" json:"window"`
	MinAttempts int     `yaml:"min_attempts" json:"min_attempts"`
}

// Retry governs temporary failures.
type Retry struct {
	MaxAttempts int `yaml:"max_attempts" json:"max_attempts"`
	// Backoff is the first delay, doubled on each attempt. Its JSON is a Go
	// duration string ("30s"): see MarshalJSON.
	Backoff time.Duration `yaml:"backoff" json:"-"`
}

// Delay returns how long a recipient waits for its next attempt after its
// attempts-th failed temporarily: Backoff, doubled per earlier attempt
// (doubling stops once it reaches a day).
func (r Retry) Delay(attempts int) time.Duration {
	d := r.Backoff
	for i := 1; i < attempts && d < 24*time.Hour; i++ {
		d *= 2
	}
	return d
}

// WithDefaults returns a copy of c in which every setting left at its zero
// value holds its default (MinAttempts follows Window, MaxFailureRate
// follows ErrorRate).
//
// Parse decodes a campaign file over Campaign{}.WithDefaults(): a key the
// file leaves out keeps its default, while a key written as 0 stays 0 (0s
// between batches means back to back) and is refused by validation where 0
// makes no sense.
func (c Campaign) WithDefaults() Campaign {
	for _, s := range []struct {
		field *string
		def   string
	}{
		{&c.TemplatesDir, DefaultTemplatesDir},
		{&c.LocalesDir, DefaultLocalesDir},
		{&c.DefaultLocale, DefaultLocale},
		{&c.LocalePolicy.MissingLocale, DefaultMissingLocale},
	} {
		if *s.field == "" {
			*s.field = s.def
		}
	}
	if c.Batches.Size == 0 {
		c.Batches.Size = DefaultBatchSize
	}
	if c.Batches.Interval == 0 {
		c.Batches.Interval = DefaultInterval
	}
	if c.AutoPause.ErrorRate == 0 {
		c.AutoPause.ErrorRate = DefaultErrorRate
	}
	if c.AutoPause.Window == 0 {
		c.AutoPause.Window = DefaultWindow
	}
	if c.AutoPause.MinAttempts == 0 {
		c.AutoPause.MinAttempts = min(c.AutoPause.Window, defaultMinAttemptsCap)
	}
	if c.Batches.MaxFailureRate == 0 {
		c.Batches.MaxFailureRate = c.AutoPause.ErrorRate
	}
	if c.Retry.MaxAttempts == 0 {
		c.Retry.MaxAttempts = DefaultMaxAttempts
	}
	if c.Retry.Backoff == 0 {
		c.Retry.Backoff = DefaultBackoff
	}
	return c
}

// Path resolves p relative to the campaign file's directory; absolute paths
// and "" are returned unchanged.
func (c *Campaign) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// Parse parses and validates a campaign file. file names it in messages and
// sets Dir. Every problem is a *yamlnode.Error (several are joined with
// errors.Join) naming file:line, the key and what to do.
func Parse(data []byte, file string) (*Campaign, error) {
	doc, err := yamlnode.Parse(data, file)
	if err != nil {
		return nil, err
	}
	if doc.Empty() {
		return nil, &yamlnode.Error{File: file, Msg: "the campaign file is empty: see the campaign file section of the README"}
	}
	c := Campaign{}.WithDefaults()
	if err := doc.Decode(&c); err != nil {
		return nil, err
	}
	// The two defaults that follow other keys follow what the file wrote.
	if !doc.Has("auto_pause", "min_attempts") {
		c.AutoPause.MinAttempts = min(c.AutoPause.Window, defaultMinAttemptsCap)
	}
	// (An error_rate that is no share is reported as itself, not again
	// as a max_failure_rate the file never wrote.)
	if !doc.Has("batches", "max_failure_rate") && c.AutoPause.ErrorRate >= 0 && c.AutoPause.ErrorRate <= 1 {
		c.Batches.MaxFailureRate = c.AutoPause.ErrorRate
	}
	for _, s := range []*string{&c.Name, &c.Environment, &c.Template, &c.TemplatesDir, &c.LocalesDir, &c.DefaultLocale,
		&c.Recipients, &c.From, &c.ReplyTo, &c.ListUnsubscribe, &c.LocalePolicy.MissingLocale} {
		*s = strings.TrimSpace(*s)
	}
	c.File = file
	c.Dir = filepath.Dir(file)
	c.line, c.has = doc.Line, doc.Has
	if err := c.validate(file, doc.Line); err != nil {
		return nil, err
	}
	// An unquoted no is a YAML 1.1 "false" to many readers and writers:
	// written so, it may mean "none", and would send Norwegian to everyone
	// without a locale.
	if ml := c.LocalePolicy.MissingLocale; strings.EqualFold(ml, "no") && doc.Plain("locale_policy", "missing_locale") {
		return nil, &yamlnode.Error{File: file, Line: doc.Line("locale_policy", "missing_locale"), Field: "locale_policy.missing_locale",
			Msg: fmt.Sprintf("%s, unquoted, may mean \"none\" (YAML 1.1 reads it as false) but names Norwegian: to refuse recipients without a locale write refuse; to send them Norwegian write \"no\" in quotes, or nb", ml)}
	}
	return &c, nil
}

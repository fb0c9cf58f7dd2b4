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
//	from: "Altea <community@altea.example>"  # required; RFC 5322, display name optional
//	reply_to: support@altea.example  # optional
//	list_unsubscribe: https://altea.example/unsubscribe  # optional http(s) or mailto URL
//	locale_policy:
//	  aliases: { gsw: de }           # requested locale -> catalog language
//	  missing_locale: refuse         # [refuse] or a catalog language for empty/unparsable locales
//	batches:
//	  canary_per_locale: 2           # [0] recipients of every covered language in the canary
//	  size: 500                      # [500] recipients per regular batch
//	  interval: 1m                   # [1m] start-to-start; 0s sends batches back to back
//	  approve_after_canary: true     # [false] wait for `tidings approve` after the canary
//	  max_failure_rate: 0.05         # [auto_pause.error_rate] gate checked after each batch
//	rate: 20/s                       # [unlimited] N/s, N/m, N/h, N/<duration>, 0 or unlimited
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
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"
)

// Defaults applied by Parse and FromDefinition.
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

// Campaign is a parsed, validated campaign file with every default applied.
type Campaign struct {
	Name            string
	Environment     string
	Template        string
	TemplatesDir    string
	LocalesDir      string
	DefaultLocale   string
	Recipients      string
	From            string
	ReplyTo         string
	ListUnsubscribe string
	LocalePolicy    LocalePolicy
	Batches         Batches
	Rate            Rate
	AutoPause       AutoPause
	Retry           Retry
	Data            map[string]any

	// File is the campaign file's name as given to Parse.
	File string
	// Dir is the directory of File; relative paths resolve against it.
	Dir string
}

// LocalePolicy holds the campaign's explicit locale mappings.
type LocalePolicy struct {
	// Aliases maps a requested locale (compared case-insensitively by the
	// locale rule) to a catalog language, e.g. gsw: de.
	Aliases map[string]string
	// MissingLocale is "refuse" or the catalog language used for empty or
	// unparsable locales.
	MissingLocale string
}

// Batches is the batch plan: a canary, then regular batches.
type Batches struct {
	CanaryPerLocale    int
	Size               int
	Interval           time.Duration
	ApproveAfterCanary bool
	// MaxFailureRate is the share of failed attempts in a finished batch
	// above which the next batch does not start.
	MaxFailureRate float64
}

// AutoPause is the sliding-window error rule applied during a batch.
type AutoPause struct {
	ErrorRate   float64
	Window      int
	MinAttempts int
}

// Retry governs temporary failures.
type Retry struct {
	MaxAttempts int
	Backoff     time.Duration
}

// Rate is a global sending rate: Count messages per Per. The zero Rate is
// unlimited.
type Rate struct {
	Count int
	Per   time.Duration
}

// Limit returns the count and period; count 0 means unlimited.
func (r Rate) Limit() (count int, per time.Duration) { return r.Count, r.Per }

// Unlimited reports whether the rate sets no limit.
func (r Rate) Unlimited() bool { return r.Count <= 0 || r.Per <= 0 }

// PerSecond returns the rate in messages per second, 0 when unlimited.
func (r Rate) PerSecond() float64 {
	if r.Unlimited() {
		return 0
	}
	return float64(r.Count) / r.Per.Seconds()
}

// String returns the rate as written in a campaign file: "20/s", "600/m",
// "1000/h", "5/10s" or "unlimited".
func (r Rate) String() string {
	if r.Unlimited() {
		return "unlimited"
	}
	switch r.Per {
	case time.Second:
		return fmt.Sprintf("%d/s", r.Count)
	case time.Minute:
		return fmt.Sprintf("%d/m", r.Count)
	case time.Hour:
		return fmt.Sprintf("%d/h", r.Count)
	}
	return fmt.Sprintf("%d/%s", r.Count, r.Per)
}

// MarshalJSON encodes the rate as its String.
func (r Rate) MarshalJSON() ([]byte, error) { return json.Marshal(r.String()) }

// UnmarshalJSON decodes a rate written by MarshalJSON (or a campaign file).
func (r *Rate) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("decode rate: %w", err)
	}
	v, err := ParseRate(s)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// ParseRate parses "20/s", "600/m", "1000/h", "5/10s" (any Go duration after
// the slash; also sec, second, min, minute, hour), and "0", "unlimited" or ""
// for no limit.
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "", "0", "unlimited":
		return Rate{}, nil
	}
	n, unit, ok := strings.Cut(s, "/")
	if !ok {
		return Rate{}, fmt.Errorf("rate %q has no period: write it as N/s, N/m or N/h, e.g. 20/s, or unlimited", s)
	}
	count, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || count < 0 {
		return Rate{}, fmt.Errorf("rate %q: %q is not a whole number of messages: write e.g. 20/s", s, n)
	}
	var per time.Duration
	switch strings.ToLower(strings.TrimSpace(unit)) {
	case "s", "sec", "second":
		per = time.Second
	case "m", "min", "minute":
		per = time.Minute
	case "h", "hour":
		per = time.Hour
	default:
		per, err = time.ParseDuration(strings.TrimSpace(unit))
		if err != nil || per <= 0 {
			return Rate{}, fmt.Errorf("rate %q: unknown period %q: use s, m, h or a duration like 10s", s, unit)
		}
	}
	if count == 0 {
		return Rate{}, nil
	}
	return Rate{Count: count, Per: per}, nil
}

// Path resolves p relative to the campaign file's directory; absolute paths
// and "" are returned unchanged.
func (c *Campaign) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// FieldError is one problem in a campaign file.
type FieldError struct {
	File  string
	Line  int    // 0 when unknown
	Field string // dotted key path, e.g. batches.size
	Msg   string // what is wrong and what to do
}

// Error returns "file:line: field: message".
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// raw mirrors the file; pointers tell "absent" from zero.
type raw struct {
	Name            string          `yaml:"name"`
	Environment     string          `yaml:"environment"`
	Template        string          `yaml:"template"`
	TemplatesDir    string          `yaml:"templates_dir"`
	LocalesDir      string          `yaml:"locales_dir"`
	DefaultLocale   string          `yaml:"default_locale"`
	Recipients      string          `yaml:"recipients"`
	From            string          `yaml:"from"`
	ReplyTo         string          `yaml:"reply_to"`
	ListUnsubscribe string          `yaml:"list_unsubscribe"`
	LocalePolicy    rawLocalePolicy `yaml:"locale_policy"`
	Batches         rawBatches      `yaml:"batches"`
	Rate            *rawRate        `yaml:"rate"`
	AutoPause       rawAutoPause    `yaml:"auto_pause"`
	Retry           rawRetry        `yaml:"retry"`
	Data            map[string]any  `yaml:"data"`
}

type rawLocalePolicy struct {
	Aliases       map[string]string `yaml:"aliases"`
	MissingLocale string            `yaml:"missing_locale"`
}

type rawBatches struct {
	CanaryPerLocale    *int         `yaml:"canary_per_locale"`
	Size               *int         `yaml:"size"`
	Interval           *rawDuration `yaml:"interval"`
	ApproveAfterCanary bool         `yaml:"approve_after_canary"`
	MaxFailureRate     *float64     `yaml:"max_failure_rate"`
}

type rawAutoPause struct {
	ErrorRate   *float64 `yaml:"error_rate"`
	Window      *int     `yaml:"window"`
	MinAttempts *int     `yaml:"min_attempts"`
}

type rawRetry struct {
	MaxAttempts *int         `yaml:"max_attempts"`
	Backoff     *rawDuration `yaml:"backoff"`
}

// rawDuration accepts Go durations ("1m", "90s", "0s") and the number 0.
type rawDuration struct{ d time.Duration }

func (d *rawDuration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a duration like 30s, 1m or 1h30m", n.Line)
	}
	if n.Value == "0" {
		d.d = 0
		return nil
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration: write e.g. 30s, 1m or 1h30m", n.Line, n.Value)
	}
	d.d = v
	return nil
}

type rawRate struct{ r Rate }

func (r *rawRate) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a rate like 20/s, 600/m or unlimited", n.Line)
	}
	v, err := ParseRate(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	r.r = v
	return nil
}

var (
	nameRE     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	lineRE     = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownRE  = regexp.MustCompile(`^field (\S+) not found in type (\S+)$`)
	knownByTyp = map[string][]string{}
)

func init() {
	for _, v := range []any{raw{}, rawLocalePolicy{}, rawBatches{}, rawAutoPause{}, rawRetry{}} {
		t := reflect.TypeOf(v)
		var keys []string
		for i := 0; i < t.NumField(); i++ {
			keys = append(keys, strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0])
		}
		knownByTyp[t.String()] = keys
	}
}

// Parse parses and validates a campaign file. file names it in messages and
// sets Dir. Every problem is a *FieldError (several are joined with
// errors.Join) naming file:line, the key and what to do.
func Parse(data []byte, file string) (*Campaign, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &FieldError{File: file, Msg: "the campaign file is empty: see the campaign file section of the README"}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(file, err)
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, &FieldError{File: file, Line: 1, Msg: "the campaign file must be a mapping of keys (name:, template:, ...)"}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var r raw
	if err := dec.Decode(&r); err != nil {
		return nil, yamlError(file, err)
	}
	c := fromRaw(&r)
	c.File = file
	c.Dir = filepath.Dir(file)
	lines := func(path string) int { return lineOf(root.Content[0], strings.Split(path, ".")) }
	if err := c.validate(file, lines); err != nil {
		return nil, err
	}
	return c, nil
}

func yamlError(file string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var errs []error
		for _, msg := range te.Errors {
			errs = append(errs, typeErrorLine(file, msg))
		}
		return errors.Join(errs...)
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return &FieldError{File: file, Line: n, Msg: m[2] + ": fix the YAML syntax"}
	}
	return &FieldError{File: file, Msg: msg + ": fix the YAML syntax"}
}

func typeErrorLine(file, msg string) error {
	m := lineRE.FindStringSubmatch(msg)
	if m == nil {
		return &FieldError{File: file, Msg: msg}
	}
	n, _ := strconv.Atoi(m[1])
	if u := unknownRE.FindStringSubmatch(m[2]); u != nil {
		return &FieldError{File: file, Line: n, Field: u[1],
			Msg: fmt.Sprintf("unknown key: check the spelling; known keys here are %s", strings.Join(knownByTyp[u[2]], ", "))}
	}
	return &FieldError{File: file, Line: n, Msg: strings.ReplaceAll(m[2], "!!", "") + ": fix the value's type"}
}

// lineOf returns the line of the value at path (or of the deepest key found).
func lineOf(n *yaml.Node, path []string) int {
	line := n.Line
	for _, key := range path {
		if n.Kind != yaml.MappingNode {
			return line
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				n, line, found = n.Content[i+1], n.Content[i+1].Line, true
				break
			}
		}
		if !found {
			return line
		}
	}
	return line
}

func fromRaw(r *raw) *Campaign {
	c := &Campaign{
		Name:            strings.TrimSpace(r.Name),
		Environment:     strings.TrimSpace(r.Environment),
		Template:        strings.TrimSpace(r.Template),
		TemplatesDir:    or(r.TemplatesDir, DefaultTemplatesDir),
		LocalesDir:      or(r.LocalesDir, DefaultLocalesDir),
		DefaultLocale:   or(r.DefaultLocale, DefaultLocale),
		Recipients:      strings.TrimSpace(r.Recipients),
		From:            strings.TrimSpace(r.From),
		ReplyTo:         strings.TrimSpace(r.ReplyTo),
		ListUnsubscribe: strings.TrimSpace(r.ListUnsubscribe),
		LocalePolicy: LocalePolicy{
			Aliases:       r.LocalePolicy.Aliases,
			MissingLocale: or(r.LocalePolicy.MissingLocale, DefaultMissingLocale),
		},
		Batches: Batches{
			Size:               DefaultBatchSize,
			Interval:           DefaultInterval,
			ApproveAfterCanary: r.Batches.ApproveAfterCanary,
		},
		AutoPause: AutoPause{ErrorRate: DefaultErrorRate, Window: DefaultWindow},
		Retry:     Retry{MaxAttempts: DefaultMaxAttempts, Backoff: DefaultBackoff},
		Data:      r.Data,
	}
	if r.Batches.CanaryPerLocale != nil {
		c.Batches.CanaryPerLocale = *r.Batches.CanaryPerLocale
	}
	if r.Batches.Size != nil {
		c.Batches.Size = *r.Batches.Size
	}
	if r.Batches.Interval != nil {
		c.Batches.Interval = r.Batches.Interval.d
	}
	if r.Rate != nil {
		c.Rate = r.Rate.r
	}
	if r.AutoPause.ErrorRate != nil {
		c.AutoPause.ErrorRate = *r.AutoPause.ErrorRate
	}
	if r.AutoPause.Window != nil {
		c.AutoPause.Window = *r.AutoPause.Window
	}
	c.AutoPause.MinAttempts = min(c.AutoPause.Window, defaultMinAttemptsCap)
	if r.AutoPause.MinAttempts != nil {
		c.AutoPause.MinAttempts = *r.AutoPause.MinAttempts
	}
	c.Batches.MaxFailureRate = c.AutoPause.ErrorRate
	if r.Batches.MaxFailureRate != nil {
		c.Batches.MaxFailureRate = *r.Batches.MaxFailureRate
	}
	if r.Retry.MaxAttempts != nil {
		c.Retry.MaxAttempts = *r.Retry.MaxAttempts
	}
	if r.Retry.Backoff != nil {
		c.Retry.Backoff = r.Retry.Backoff.d
	}
	return c
}

func or(s, def string) string {
	if s = strings.TrimSpace(s); s == "" {
		return def
	}
	return s
}

// validate checks every field; line maps a dotted key path to its line.
func (c *Campaign) validate(file string, line func(path string) int) error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{File: file, Line: line(field), Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	switch {
	case c.Name == "":
		bad("name", "missing: name the campaign, e.g. name: spring-reregistration")
	case !nameRE.MatchString(c.Name):
		bad("name", "%q is not a valid campaign name: use 1-63 lower-case letters, digits and '-', starting with a letter or digit", c.Name)
	}
	if c.Environment == "" {
		bad("environment", "missing: pin the campaign to the environment it may be sent in, e.g. environment: staging")
	}
	if c.Template == "" {
		bad("template", "missing: name the template directory under %s, e.g. template: welcome", c.TemplatesDir)
	} else if strings.ContainsAny(c.Template, `/\`) || c.Template == "." || c.Template == ".." {
		bad("template", "%q must be a directory name under templates_dir, not a path", c.Template)
	}
	if c.Recipients == "" {
		bad("recipients", "missing: give the recipients file (CSV or JSONL), e.g. recipients: recipients.csv")
	}
	if c.From == "" {
		bad("from", `missing: give the sender, e.g. from: "Altea <community@altea.example>"`)
	} else if _, err := mail.ParseAddress(c.From); err != nil {
		bad("from", "%q is not an RFC 5322 address: write name <address> or just the address", c.From)
	}
	if c.ReplyTo != "" {
		if _, err := mail.ParseAddress(c.ReplyTo); err != nil {
			bad("reply_to", "%q is not an RFC 5322 address: write name <address> or just the address", c.ReplyTo)
		}
	}
	if c.ListUnsubscribe != "" {
		u, err := url.Parse(c.ListUnsubscribe)
		switch {
		case err != nil:
			bad("list_unsubscribe", "%q is not a URL: give an https:// or mailto: URL", c.ListUnsubscribe)
		case u.Scheme == "mailto" && u.Opaque != "":
		case (u.Scheme == "https" || u.Scheme == "http") && u.Host != "":
		default:
			bad("list_unsubscribe", "%q is not an http(s) or mailto URL: give e.g. https://example.com/unsubscribe or mailto:unsubscribe@example.com", c.ListUnsubscribe)
		}
	}
	if _, err := language.Parse(c.DefaultLocale); err != nil {
		bad("default_locale", "%q is not a language tag: write e.g. en or de", c.DefaultLocale)
	}
	if ml := c.LocalePolicy.MissingLocale; ml != DefaultMissingLocale {
		if _, err := language.Parse(ml); err != nil {
			bad("locale_policy.missing_locale", "%q is neither refuse nor a language tag: write refuse or a catalog language such as en", ml)
		}
	}
	for _, k := range sortedKeys(c.LocalePolicy.Aliases) {
		if strings.TrimSpace(k) == "" || strings.TrimSpace(c.LocalePolicy.Aliases[k]) == "" {
			bad("locale_policy.aliases", "alias %q: %q: both the requested locale and the catalog language must be given", k, c.LocalePolicy.Aliases[k])
		} else if _, err := language.Parse(c.LocalePolicy.Aliases[k]); err != nil {
			bad("locale_policy.aliases", "alias %s: %q is not a language tag: map to a catalog language such as de", k, c.LocalePolicy.Aliases[k])
		}
	}
	b := c.Batches
	if b.CanaryPerLocale < 0 {
		bad("batches.canary_per_locale", "%d is negative: use 0 (no canary) or more", b.CanaryPerLocale)
	}
	if b.Size < 1 {
		bad("batches.size", "%d: a batch holds at least 1 recipient", b.Size)
	}
	if b.Interval < 0 {
		bad("batches.interval", "%s is negative: use 0s or more", b.Interval)
	}
	if b.MaxFailureRate < 0 || b.MaxFailureRate > 1 {
		bad("batches.max_failure_rate", "%g is not a share: use a number between 0 and 1, e.g. 0.05", b.MaxFailureRate)
	}
	if b.ApproveAfterCanary && b.CanaryPerLocale == 0 {
		bad("batches.approve_after_canary", "there is no canary to approve: set batches.canary_per_locale to 1 or more")
	}
	a := c.AutoPause
	if a.ErrorRate <= 0 || a.ErrorRate > 1 {
		bad("auto_pause.error_rate", "%g is not a share: use a number above 0 and at most 1, e.g. 0.05", a.ErrorRate)
	}
	if a.Window < 1 {
		bad("auto_pause.window", "%d: the window holds at least 1 attempt, e.g. 200", a.Window)
	}
	if a.MinAttempts < 1 || a.MinAttempts > a.Window {
		bad("auto_pause.min_attempts", "%d must be between 1 and window (%d)", a.MinAttempts, a.Window)
	}
	if c.Retry.MaxAttempts < 1 {
		bad("retry.max_attempts", "%d: use 1 (no retry) or more", c.Retry.MaxAttempts)
	}
	if c.Retry.Backoff < 0 {
		bad("retry.backoff", "%s is negative: use e.g. 30s", c.Retry.Backoff)
	}
	if c.Data != nil {
		if _, err := json.Marshal(c.Data); err != nil {
			bad("data", "cannot be carried to workers (%s): use string keys and plain values", err.Error())
		}
	}
	return errors.Join(errs...)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

package campaign

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"golang.org/x/text/language"

	"github.com/tidings-mail/tidings/internal/address"
	"github.com/tidings-mail/tidings/internal/envname"
	"github.com/tidings-mail/tidings/internal/unsubscribe"
	"github.com/tidings-mail/tidings/internal/yamlnode"
)

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// validate checks every field. line returns the line of the value at a key
// path (0 when unknown); every problem is a *yamlnode.Error.
func (c *Campaign) validate(file string, line func(path ...string) int) error {
	var errs []error
	badAt := func(path []string, format string, args ...any) {
		errs = append(errs, &yamlnode.Error{File: file, Line: line(path...), Field: strings.Join(path, "."), Msg: fmt.Sprintf(format, args...)})
	}
	bad := func(field, format string, args ...any) { badAt(strings.Split(field, "."), format, args...) }
	switch {
	case c.Name == "":
		bad("name", "missing: name the campaign, e.g. name: spring-reregistration")
	case !nameRE.MatchString(c.Name):
		bad("name", "%q is not a valid campaign name: use 1-63 lower-case letters, digits and '-', starting with a letter or digit", c.Name)
	}
	switch {
	case c.Environment == "":
		bad("environment", "missing: pin the campaign to the environment it may be sent in, e.g. environment: staging")
	case !envname.Valid(c.Environment): // refused here, at its line, not later in a message that repeats it
		bad("environment", "%q is no environment's name: %s; pin the campaign to the environment it may be sent in, e.g. environment: staging", c.Environment, envname.Rule)
	case strings.EqualFold(c.Environment, envname.Production) && c.Environment != envname.Production:
		bad("environment", "%s differs from %s only in case, and only the environment named %[2]s is production: write environment: %[2]s, or pin the campaign to an environment with a name of its own", c.Environment, envname.Production)
	}
	if c.Template == "" {
		bad("template", "missing: name the template directory under %s, e.g. template: welcome", c.TemplatesDir)
	} else if strings.ContainsAny(c.Template, `/\`) || c.Template == "." || c.Template == ".." {
		bad("template", "%q must be a directory name under templates_dir, not a path", c.Template)
	}
	if c.Recipients == "" {
		bad("recipients", "missing: give the recipients file (CSV or JSONL), e.g. recipients: recipients.csv")
	}
	// What every message carries is checked as the worker's composer checks
	// it (package send), so that nothing is staged that a worker refuses.
	if c.From == "" {
		bad("from", `missing: give the sender, e.g. from: "Altea <community@altea.example>"`)
	} else if err := address.CheckMailbox(c.From); err != nil {
		bad("from", "%s", err.Error())
	}
	if c.ReplyTo != "" {
		if err := address.CheckMailbox(c.ReplyTo); err != nil {
			bad("reply_to", "%s", err.Error())
		}
	}
	if c.ListUnsubscribe != "" {
		if err := unsubscribe.Check(c.ListUnsubscribe); err != nil {
			bad("list_unsubscribe", "%s", err.Error())
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
	c.validateAliases(badAt, line)
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
	if !(b.MaxFailureRate >= 0 && b.MaxFailureRate <= 1) {
		bad("batches.max_failure_rate", "%g is not a share: use a number between 0 and 1, e.g. 0.05", b.MaxFailureRate)
	}
	if b.ApproveAfterCanary && b.CanaryPerLocale == 0 {
		bad("batches.approve_after_canary", "there is no canary to approve: set batches.canary_per_locale to 1 or more")
	}
	a := c.AutoPause
	if !(a.ErrorRate > 0 && a.ErrorRate <= 1) {
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
		data, nulls, err := workerData(c.Data)
		if err != nil {
			bad("data", "cannot be carried to workers: use text keys and plain values (%s)", yamlnode.Printable(err.Error()))
		} else {
			c.Data = data // as every worker gets it
		}
		for _, p := range nulls {
			bad(p, "has no value (null): a template printing it would send \"<no value>\"; give it one (\"\" for no text) or remove the key")
		}
	}
	return errors.Join(errs...)
}

// validateAliases checks every alias, and refuses two aliases for the same
// locale (gsw and GSW): the locale rule compares them case-insensitively,
// so one of them would win silently.
func (c *Campaign) validateAliases(badAt func(path []string, format string, args ...any), line func(path ...string) int) {
	aliases := c.LocalePolicy.Aliases
	keys := make([]string, 0, len(aliases))
	for k := range aliases {
		keys = append(keys, k)
	}
	at := func(k string) []string { return []string{"locale_policy", "aliases", k} }
	// File order where lines are known, else sorted.
	sort.Slice(keys, func(i, j int) bool {
		li, lj := line(at(keys[i])...), line(at(keys[j])...)
		if li != lj {
			return li < lj
		}
		return keys[i] < keys[j]
	})
	first := map[string]string{}
	for _, k := range keys {
		v := aliases[k]
		switch {
		case strings.TrimSpace(k) == "" || strings.TrimSpace(v) == "":
			badAt(at(k), "alias %q: %q: both the requested locale and the catalog language must be given", k, v)
			continue
		default:
			if _, err := language.Parse(v); errors.As(err, new(language.ValueError)) {
				badAt(at(k), "%q is not a known language (a well-formed tag, but no language has it): map to a catalog language such as de", v)
			} else if err != nil {
				badAt(at(k), "%q is not a language tag: map to a catalog language such as de", v)
			}
		}
		canon := canonLocale(k)
		if prev, dup := first[canon]; dup {
			where := ""
			if l := line(at(prev)...); l > 0 {
				where = fmt.Sprintf(" (line %d)", l)
			}
			badAt(at(k), "%s and %s%s name the same locale (aliases are compared case-insensitively): keep one", k, prev, where)
			continue
		}
		first[canon] = k
	}
}

// canonLocale normalises an alias key as the locale rule compares a
// requested locale with it (render's canonKey): its spelling only (case,
// surrounding space, "_" for "-"), never x/text's canonical form, which
// rewrites legacy tags into other languages' (sh and hbs to sr-Latn).
func canonLocale(s string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), "_", "-"))
}

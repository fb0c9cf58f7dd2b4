package campaign

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// DefinitionVersion is the version of the JSON written by Definition.
const DefinitionVersion = 1

// definition is the stable JSON form of a resolved campaign. Keys follow the
// campaign file; every default is filled in; durations are Go duration
// strings ("1m0s"), the rate is its String ("20/s", "unlimited").
//
//	{"version":1,"name":"...","environment":"...","template":"...",
//	 "templates_dir":"templates","locales_dir":"locales","default_locale":"en",
//	 "recipients":"recipients.csv","from":"...","reply_to":"","list_unsubscribe":"",
//	 "locale_policy":{"aliases":{"gsw":"de"},"missing_locale":"refuse"},
//	 "batches":{"canary_per_locale":2,"size":500,"interval":"1m0s",
//	            "approve_after_canary":true,"max_failure_rate":0.05},
//	 "rate":"20/s",
//	 "auto_pause":{"error_rate":0.05,"window":200,"min_attempts":20},
//	 "retry":{"max_attempts":5,"backoff":"30s"},
//	 "data":{...},"file":"campaigns/x.yaml","dir":"campaigns"}
type definition struct {
	Version         int             `json:"version"`
	Name            string          `json:"name"`
	Environment     string          `json:"environment"`
	Template        string          `json:"template"`
	TemplatesDir    string          `json:"templates_dir"`
	LocalesDir      string          `json:"locales_dir"`
	DefaultLocale   string          `json:"default_locale"`
	Recipients      string          `json:"recipients"`
	From            string          `json:"from"`
	ReplyTo         string          `json:"reply_to"`
	ListUnsubscribe string          `json:"list_unsubscribe"`
	LocalePolicy    defLocalePolicy `json:"locale_policy"`
	Batches         defBatches      `json:"batches"`
	Rate            Rate            `json:"rate"`
	AutoPause       defAutoPause    `json:"auto_pause"`
	Retry           defRetry        `json:"retry"`
	Data            map[string]any  `json:"data"`
	File            string          `json:"file"`
	Dir             string          `json:"dir"`
}

type defLocalePolicy struct {
	Aliases       map[string]string `json:"aliases"`
	MissingLocale string            `json:"missing_locale"`
}

type defBatches struct {
	CanaryPerLocale    int      `json:"canary_per_locale"`
	Size               int      `json:"size"`
	Interval           duration `json:"interval"`
	ApproveAfterCanary bool     `json:"approve_after_canary"`
	MaxFailureRate     float64  `json:"max_failure_rate"`
}

type defAutoPause struct {
	ErrorRate   float64 `json:"error_rate"`
	Window      int     `json:"window"`
	MinAttempts int     `json:"min_attempts"`
}

type defRetry struct {
	MaxAttempts int      `json:"max_attempts"`
	Backoff     duration `json:"backoff"`
}

type duration time.Duration

func (d duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("decode duration: %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("decode duration: %w", err)
	}
	*d = duration(v)
	return nil
}

// Definition returns the resolved campaign as stable JSON (documented on the
// definition type in this file): the same campaign always gives the same
// bytes. Workers read it back with FromDefinition.
func (c *Campaign) Definition() ([]byte, error) {
	d := definition{
		Version:         DefinitionVersion,
		Name:            c.Name,
		Environment:     c.Environment,
		Template:        c.Template,
		TemplatesDir:    c.TemplatesDir,
		LocalesDir:      c.LocalesDir,
		DefaultLocale:   c.DefaultLocale,
		Recipients:      c.Recipients,
		From:            c.From,
		ReplyTo:         c.ReplyTo,
		ListUnsubscribe: c.ListUnsubscribe,
		LocalePolicy:    defLocalePolicy{Aliases: c.LocalePolicy.Aliases, MissingLocale: c.LocalePolicy.MissingLocale},
		Batches: defBatches{
			CanaryPerLocale:    c.Batches.CanaryPerLocale,
			Size:               c.Batches.Size,
			Interval:           duration(c.Batches.Interval),
			ApproveAfterCanary: c.Batches.ApproveAfterCanary,
			MaxFailureRate:     c.Batches.MaxFailureRate,
		},
		Rate:      c.Rate,
		AutoPause: defAutoPause{ErrorRate: c.AutoPause.ErrorRate, Window: c.AutoPause.Window, MinAttempts: c.AutoPause.MinAttempts},
		Retry:     defRetry{MaxAttempts: c.Retry.MaxAttempts, Backoff: duration(c.Retry.Backoff)},
		Data:      c.Data,
		File:      c.File,
		Dir:       c.Dir,
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("encode campaign %s: %w", c.Name, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// FromDefinition decodes and validates JSON written by Definition.
func FromDefinition(b []byte) (*Campaign, error) {
	var d definition
	dec := json.NewDecoder(bytes.NewReader(b))
	// Numbers in data keep their text: a float64 would render 1000000 as
	// 1e+06 in the worker while preview (from the YAML) shows 1000000.
	dec.UseNumber()
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("decode campaign definition: %w", err)
	}
	if d.Version != DefinitionVersion {
		return nil, fmt.Errorf("decode campaign definition: version %d, this tidings reads version %d: run workers of the same version as send", d.Version, DefinitionVersion)
	}
	c := &Campaign{
		Name:            d.Name,
		Environment:     d.Environment,
		Template:        d.Template,
		TemplatesDir:    d.TemplatesDir,
		LocalesDir:      d.LocalesDir,
		DefaultLocale:   d.DefaultLocale,
		Recipients:      d.Recipients,
		From:            d.From,
		ReplyTo:         d.ReplyTo,
		ListUnsubscribe: d.ListUnsubscribe,
		LocalePolicy:    LocalePolicy{Aliases: d.LocalePolicy.Aliases, MissingLocale: d.LocalePolicy.MissingLocale},
		Batches: Batches{
			CanaryPerLocale:    d.Batches.CanaryPerLocale,
			Size:               d.Batches.Size,
			Interval:           time.Duration(d.Batches.Interval),
			ApproveAfterCanary: d.Batches.ApproveAfterCanary,
			MaxFailureRate:     d.Batches.MaxFailureRate,
		},
		Rate:      d.Rate,
		AutoPause: AutoPause{ErrorRate: d.AutoPause.ErrorRate, Window: d.AutoPause.Window, MinAttempts: d.AutoPause.MinAttempts},
		Retry:     Retry{MaxAttempts: d.Retry.MaxAttempts, Backoff: time.Duration(d.Retry.Backoff)},
		Data:      d.Data,
		File:      d.File,
		Dir:       d.Dir,
	}
	if err := c.validate("campaign definition", func(string) int { return 0 }); err != nil {
		return nil, fmt.Errorf("validate campaign definition: %w", err)
	}
	return c, nil
}

package campaign

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// DefinitionVersion is the version of the JSON written by Definition.
const DefinitionVersion = 1

// ErrVersion is wrapped by the error of FromDefinition for a definition of
// another version than DefinitionVersion: another tidings staged it.
var ErrVersion = errors.New("written by another tidings version")

// definition is the stable JSON form of a resolved campaign: a version,
// then the Campaign's fields under their campaign-file keys, with every
// default filled in, durations as Go duration strings ("1m0s") and the
// rate as its String ("20/s", "unlimited"):
//
//	{"version":1,"name":"...","environment":"...","template":"...",
//	 "templates_dir":"templates","locales_dir":"locales","default_locale":"en",
//	 "recipients":"recipients.csv","from":"...","reply_to":"","list_unsubscribe":"",
//	 "locale_policy":{"aliases":{"gsw":"de"},"missing_locale":"refuse"},
//	 "batches":{"canary_per_locale":2,"size":500,"approve_after_canary":true,
//	            "max_failure_rate":0.05,"interval":"1m0s"},
//	 "rate":"20/s",
//	 "auto_pause":{"error_rate":0.05,"window":200,"min_attempts":20},
//	 "retry":{"max_attempts":5,"backoff":"30s"},
//	 "data":{...},"file":"campaigns/x.yaml","dir":"campaigns"}
//
// Key order is not part of the format (definitions written before the
// Campaign struct became the JSON struct have "interval" third).
type definition struct {
	Version int `json:"version"`
	*Campaign
}

// Definition returns the resolved campaign as stable JSON (documented on the
// definition type in this file): the same campaign always gives the same
// bytes. Workers read it back with FromDefinition.
func (c *Campaign) Definition() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(definition{Version: DefinitionVersion, Campaign: c}); err != nil {
		return nil, fmt.Errorf("encode campaign %s: %w", c.Name, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// FromDefinition decodes and validates JSON written by Definition.
func FromDefinition(b []byte) (*Campaign, error) {
	d := definition{Campaign: &Campaign{}}
	dec := json.NewDecoder(bytes.NewReader(b))
	// Numbers in data keep their text: a float64 would render 1000000 as
	// 1e+06 in the worker while preview (from the YAML) shows 1000000.
	dec.UseNumber()
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("decode campaign definition: %w", err)
	}
	if d.Version != DefinitionVersion {
		return nil, fmt.Errorf("decode campaign definition: version %d, this tidings reads version %d (%w): run workers of the version that staged the campaign", d.Version, DefinitionVersion, ErrVersion)
	}
	if err := d.validate("campaign definition", func(...string) int { return 0 }); err != nil {
		return nil, fmt.Errorf("validate campaign definition: %w", err)
	}
	return d.Campaign, nil
}

// batchesJSON and retryJSON are Batches and Retry without their methods,
// so that MarshalJSON can add the duration as text.
type (
	batchesJSON Batches
	retryJSON   Retry
)

// MarshalJSON writes the batches with Interval as a Go duration string.
func (b Batches) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		batchesJSON
		Interval string `json:"interval"`
	}{batchesJSON(b), b.Interval.String()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (b *Batches) UnmarshalJSON(data []byte) error {
	v := struct {
		*batchesJSON
		Interval string `json:"interval"`
	}{batchesJSON: (*batchesJSON)(b)}
	if err := json.Unmarshal(data, &v); err != nil {
		return fmt.Errorf("decode batches: %w", err)
	}
	return parseDuration("batches.interval", v.Interval, &b.Interval)
}

// MarshalJSON writes the retry policy with Backoff as a Go duration string.
func (r Retry) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		retryJSON
		Backoff string `json:"backoff"`
	}{retryJSON(r), r.Backoff.String()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *Retry) UnmarshalJSON(data []byte) error {
	v := struct {
		*retryJSON
		Backoff string `json:"backoff"`
	}{retryJSON: (*retryJSON)(r)}
	if err := json.Unmarshal(data, &v); err != nil {
		return fmt.Errorf("decode retry: %w", err)
	}
	return parseDuration("retry.backoff", v.Backoff, &r.Backoff)
}

func parseDuration(field, s string, dst *time.Duration) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("decode %s: %w", field, err)
	}
	*dst = d
	return nil
}

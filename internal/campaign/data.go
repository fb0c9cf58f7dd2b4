package campaign

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
)

// workerData returns data as every worker gets it: the values the staged
// definition's JSON carries (a date, text; a number, an int64 when it is a
// whole number that fits, else a float64), decoded the one way. The
// campaign file's own reader (YAML: int, time.Time, ...) and the
// definition's (JSON) would otherwise give the templates values of other
// types for the same data, and preview, the gallery and plan would render
// what no worker sends: {{if .Data.n}} with n: 0 (a json.Number "0" is
// true), a plural count the worker refuses, a date in another form. It
// returns the paths of values that are null: a template printing one
// would send "<no value>".
func workerData(data map[string]any) (map[string]any, []string, error) {
	if data == nil {
		return nil, nil, nil
	}
	b, err := json.Marshal(data)
	if err != nil {
		return nil, nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out map[string]any
	if err := dec.Decode(&out); err != nil {
		return nil, nil, fmt.Errorf("decode data: %w", err)
	}
	var nulls []string
	v := plain(out, "data", &nulls)
	sort.Strings(nulls)
	return v.(map[string]any), nulls, nil
}

// plain replaces every json.Number under v by an int64 or float64 and
// collects the paths (under path) of null values.
func plain(v any, path string, nulls *[]string) any {
	switch x := v.(type) {
	case nil:
		*nulls = append(*nulls, path)
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return n
		}
		if f, err := x.Float64(); err == nil {
			return f
		}
		return string(x) // out of range: its text
	case map[string]any:
		for k, e := range x {
			x[k] = plain(e, path+"."+k, nulls)
		}
	case []any:
		for i, e := range x {
			x[i] = plain(e, fmt.Sprintf("%s[%d]", path, i), nulls)
		}
	}
	return v
}

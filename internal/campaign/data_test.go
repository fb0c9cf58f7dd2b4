package campaign

import (
	"reflect"
	"strings"
	"testing"
)

// TestDataIsWhatEveryWorkerGets: the campaign's data, as the campaign file
// gives it to preview, plan and the gallery, is the data a worker decodes
// from the staged definition, value for value and type for type (red team
// 11: a 0 read from YAML was false in preview and a json.Number "0", true,
// in the worker; a plural count from data was refused by the worker; a
// date was printed in two forms).
func TestDataIsWhatEveryWorkerGets(t *testing.T) {
	t.Parallel()
	const file = "name: d\nenvironment: staging\ntemplate: welcome\nrecipients: r.csv\nfrom: a@b.example\ndata:\n" +
		"  zero: 0\n  n: 3\n  big: 12345678901234567890\n  half: 1.5\n  million: 1e6\n  yes: true\n  day: 2026-12-24\n" +
		"  text: \"007\"\n  list: [1, two]\n  nested: {k: 2}\n"
	c, err := Parse([]byte(file), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"zero": int64(0), "n": int64(3), "big": float64(12345678901234567890), "half": 1.5, "million": int64(1000000), "yes": true,
		"day": "2026-12-24T00:00:00Z", "text": "007", "list": []any{int64(1), "two"}, "nested": map[string]any{"k": int64(2)},
	}
	if !reflect.DeepEqual(c.Data, want) {
		t.Errorf("data from the campaign file:\n%#v\nwant\n%#v", c.Data, want)
	}
	def, err := c.Definition()
	if err != nil {
		t.Fatal(err)
	}
	w, err := FromDefinition(def)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(w.Data, c.Data) {
		t.Errorf("data a worker decodes:\n%#v\nfrom the campaign file:\n%#v", w.Data, c.Data)
	}
}

// TestDataWithoutAValueIsRefused: a data key left without a value (null)
// would be printed "<no value>" by a template; the campaign file is
// refused, naming its line.
func TestDataWithoutAValueIsRefused(t *testing.T) {
	t.Parallel()
	const file = "name: d\nenvironment: staging\ntemplate: welcome\nrecipients: r.csv\nfrom: a@b.example\ndata:\n  promo_code:\n  url: x\n"
	_, err := Parse([]byte(file), "c.yaml")
	if err == nil || !strings.Contains(err.Error(), "c.yaml:7: data.promo_code: has no value (null)") {
		t.Fatalf("a data key without a value: %v; want c.yaml:7: data.promo_code refused", err)
	}
}

package store

import (
	"maps"
	"testing"
)

// TestFieldsInto checks that FieldsInto gives each column its value (none
// for a column past the values), in the map it is handed when there is one, with no key of the previous
// recipient left in it, and without allocating once the map has room.
func TestFieldsInto(t *testing.T) {
	cols := []string{"posts", "plan"}
	cases := []struct {
		name   string
		values []string
		want   map[string]string
	}{
		{"all columns", []string{"12", "pro"}, map[string]string{"posts": "12", "plan": "pro"}},
		{"fewer values than columns", []string{"3"}, map[string]string{"posts": "3"}},
		{"no values", nil, map[string]string{}},
	}
	m := map[string]string{"stale": "from the previous recipient", "plan": "old"}
	for _, c := range cases {
		r := &Recipient{ID: "u1", Values: c.values}
		got := r.FieldsInto(m, cols)
		if !maps.Equal(got, c.want) {
			t.Errorf("%s: FieldsInto = %v, want %v", c.name, got, c.want)
		}
		if got == nil {
			t.Fatalf("%s: FieldsInto returned nil", c.name)
		}
		got["probe"] = "x"
		if m["probe"] != "x" {
			t.Errorf("%s: FieldsInto did not fill the map it was given", c.name)
		}
		delete(m, "probe")
	}
	if got := (&Recipient{Values: []string{"1"}}).FieldsInto(nil, cols); got["posts"] != "1" {
		t.Errorf("FieldsInto(nil) = %v, want posts 1", got)
	}
	r := &Recipient{Values: []string{"12", "pro"}}
	if a := testing.AllocsPerRun(100, func() { m = r.FieldsInto(m, cols) }); a != 0 {
		t.Errorf("FieldsInto allocates %.0f times with a map given, want 0", a)
	}
}

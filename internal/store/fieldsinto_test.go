package store

import (
	"maps"
	"testing"
)

// TestFieldsInto checks that FieldsInto gives what FieldMap gives, in the
// map it is handed when there is one, with no key of the previous
// recipient left in it, and without allocating once the map has room.
func TestFieldsInto(t *testing.T) {
	cols := []string{"posts", "plan"}
	cases := []struct {
		name   string
		values []string
	}{
		{"all columns", []string{"12", "pro"}},
		{"fewer values than columns", []string{"3"}},
		{"no values", nil},
	}
	m := map[string]string{"stale": "from the previous recipient", "plan": "old"}
	for _, c := range cases {
		r := &Recipient{ID: "u1", Values: c.values}
		got := r.FieldsInto(m, cols)
		if want := r.FieldMap(cols); !maps.Equal(got, want) {
			t.Errorf("%s: FieldsInto = %v, want %v", c.name, got, want)
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

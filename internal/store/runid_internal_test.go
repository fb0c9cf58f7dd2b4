package store

import (
	"strings"
	"testing"
)

// TestRunStagedAfter: run ids (newID) say which of two runs was staged
// first, by their seconds and, in the same second, by their nanoseconds;
// ids of the same second without nanoseconds (written before ids had
// them), or that are no run ids, say neither.
func TestRunStagedAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, a, b string
		after      bool
	}{
		{"a later second", "tpj9c1-000000010123456789abcdef", "tpj9c0-3b9ac9ff0123456789abcdef", true},
		{"an earlier second", "tpj9c0-3b9ac9ff0123456789abcdef", "tpj9c1-000000010123456789abcdef", false},
		{"later in the same second", "tpj9c0-1a0000000123456789abcdef", "tpj9c0-0f0000000123456789abcdef", true},
		{"earlier in the same second", "tpj9c0-0f0000000123456789abcdef", "tpj9c0-1a0000000123456789abcdef", false},
		{"later in the same second, marked", "tpj9c0-1a0000000123456789abcdef-excl", "tpj9c0-0f0000000123456789abcdef-excl", true},
		{"itself", "tpj9c0-1a0000000123456789abcdef", "tpj9c0-1a0000000123456789abcdef", false},
		{"a later second, ids without nanoseconds", "tpj9c1-0123456789abcdef-excl", "tpj9c0-fedcba9876543210", true},
		{"the same second, ids without nanoseconds", "tpj9c0-fedcba9876543210", "tpj9c0-0123456789abcdef", false},
		{"the same second, the other without nanoseconds", "tpj9c0-ff0000000123456789abcdef", "tpj9c0-0123456789abcdef", false},
		{"no run id", "not a run", "tpj9c0-0123456789abcdef", false},
	}
	for _, tt := range tests {
		if got := RunStagedAfter(tt.a, tt.b); got != tt.after {
			t.Errorf("%s: RunStagedAfter(%s, %s) = %v, want %v", tt.name, tt.a, tt.b, got, tt.after)
		}
	}
}

// TestNewIDsTellTheirOrder: of two ids made one after the other (in the
// same second, most often), the second is staged after the first.
func TestNewIDsTellTheirOrder(t *testing.T) {
	t.Parallel()
	first := newID()
	second := newID()
	for second == first || strings.HasPrefix(second, first[:strings.IndexByte(first, '-')+9]) {
		second = newID() // the clock has not moved on (a coarse one)
	}
	if !RunStagedAfter(second, first) || RunStagedAfter(first, second) {
		t.Errorf("ids %s then %s: want the second staged after the first, not the reverse", first, second)
	}
}

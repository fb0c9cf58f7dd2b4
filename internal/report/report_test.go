package report_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/tidings-mail/tidings/internal/report"
)

func TestParseOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		list    string
		want    []string
		unknown string
	}{
		{"", nil, ""},
		{"failed,in-doubt", []string{"failed", "in-doubt"}, ""},
		{" pending , ,sent", []string{"pending", "sent"}, ""},
		{"sent,bogus", nil, "bogus"},
	}
	for _, tt := range tests {
		got, err := report.ParseOutcomes(tt.list)
		var oe *report.OutcomeError
		switch {
		case tt.unknown != "" && (!errors.As(err, &oe) || oe.Outcome != tt.unknown):
			t.Errorf("ParseOutcomes(%q): err = %v, want an *OutcomeError for %q", tt.list, err, tt.unknown)
		case tt.unknown == "" && (err != nil || !slices.Equal(got, tt.want)):
			t.Errorf("ParseOutcomes(%q) = %v, %v; want %v", tt.list, got, err, tt.want)
		}
	}
}

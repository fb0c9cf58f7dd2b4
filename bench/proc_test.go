package main

import "testing"

func TestParseSinkCount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"sess=0 quit=0 mesg=1", 0}, // incomplete record
		{"sess=0 quit=0 mesg=1\n", 1},
		{"sess=0 quit=0 mesg=1\nsess=0 quit=0 mesg=2\nsess=0 qu", 2},
		{"sess=0 quit=0 mesg=2999\rsess=0 quit=0 mesg=3000\r", 3000},
		{"0 mesg=41\rsess=1 quit=1 mesg=42\r", 42},
	}
	for _, tt := range tests {
		got, err := parseSinkCount([]byte(tt.in))
		if err != nil || got != tt.want {
			t.Errorf("parseSinkCount(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	if _, err := parseSinkCount([]byte("garbage\n")); err == nil {
		t.Error("parseSinkCount(garbage) gave no error")
	}
}

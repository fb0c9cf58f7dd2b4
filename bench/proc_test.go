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

// TestTopCommands: the commands whose time grew most, per message, largest
// first, at most n, each with its calls per message; a command that did
// not grow is left out.
func TestTopCommands(t *testing.T) {
	base := map[string]float64{"evalsha": 1000, "hget": 50, "ping": 7}
	end := map[string]float64{"evalsha": 31000, "hget": 2050, "ping": 7, "wait": 500, "hset": 9000}
	baseCalls := map[string]float64{"evalsha": 10, "hget": 5, "ping": 1}
	endCalls := map[string]float64{"evalsha": 510, "hget": 2005, "ping": 1, "wait": 100, "hset": 3000}
	got := topCommands(base, end, baseCalls, endCalls, 1000, 3)
	want := []commandCost{{"evalsha", 30, 0.5}, {"hset", 9, 3}, {"hget", 2, 2}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("got %v, want %v", got, want)
		}
	}
	if got := topCommands(base, base, baseCalls, baseCalls, 1000, 3); len(got) != 0 {
		t.Errorf("no growth: got %v, want none", got)
	}
}

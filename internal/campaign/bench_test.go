package campaign

import (
	"os"
	"testing"
)

// BenchmarkParse parses and validates the full sample campaign file.
func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data, "testdata/full.yaml"); err != nil {
			b.Fatal(err)
		}
	}
}

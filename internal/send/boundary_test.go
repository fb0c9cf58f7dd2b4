package send

import (
	"encoding/hex"
	"testing"
)

// boundaryWant is the boundary as newBoundary made it before: the words'
// bytes laid out little-endian, then hex.Encode of the first 30.
func boundaryWant(v [4]uint64) string {
	var b [32]byte
	for i := 0; i < len(b); i += 8 {
		for j := range 8 {
			b[i+j] = byte(v[i/8] >> (8 * j))
		}
	}
	return hex.EncodeToString(b[:30])
}

// TestBoundaryOf: boundaryOf is the hex of the words' first 30 bytes, as
// before; newBoundary gives 60 hex digits, a new one each call.
func TestBoundaryOf(t *testing.T) {
	for _, v := range [][4]uint64{
		{},
		{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)},
		{0x0123456789abcdef, 0xfedcba9876543210, 0x00ff00ff00ff00ff, 0x8877665544332211},
	} {
		if got, want := boundaryOf(v), boundaryWant(v); string(got[:]) != want {
			t.Fatalf("boundaryOf(%x) = %s, want %s", v, got, want)
		}
	}
	ab, bb := newBoundary(), newBoundary()
	a, b := string(ab[:]), string(bb[:])
	if len(a) != 60 || a == b {
		t.Fatalf("newBoundary = %q then %q: want 60 hex digits, new each time", a, b)
	}
	if _, err := hex.DecodeString(a); err != nil {
		t.Fatalf("newBoundary = %q: %v", a, err)
	}
}

// FuzzBoundaryOf compares boundaryOf with the hex of the bytes.
func FuzzBoundaryOf(f *testing.F) {
	f.Add(uint64(0), uint64(1), uint64(1<<63), ^uint64(0))
	f.Fuzz(func(t *testing.T, a, b, c, d uint64) {
		v := [4]uint64{a, b, c, d}
		if got, want := boundaryOf(v), boundaryWant(v); string(got[:]) != want {
			t.Fatalf("boundaryOf(%x) = %s, want %s", v, got, want)
		}
	})
}

package recipient

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"testing"
)

// genReader produces n CSV rows on the fly, so a benchmark over millions of
// rows measures the reader, not the input.
type genReader struct {
	n, i int
	buf  []byte
}

func (g *genReader) Read(p []byte) (int, error) {
	for len(g.buf) < len(p) && g.i <= g.n {
		if g.i == 0 {
			g.buf = append(g.buf, "id,email,locale,name,posts\n"...)
		} else {
			g.buf = fmt.Appendf(g.buf, "u%d,user%d@example.com,de,Name %d,%d\n", g.i, g.i, g.i, g.i%7)
		}
		g.i++
	}
	if len(g.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}

// BenchmarkReader1M reads a million generated rows and reports the heap
// still in use at the end (the duplicate sets) as MB-live.
func BenchmarkReader1M(b *testing.B) {
	const rows = 1_000_000
	for b.Loop() {
		rd, err := NewReader(&genReader{n: rows}, ReaderConfig{Name: "gen.csv"})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != rows {
			b.Fatalf("read %d rows", n)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "MB-live")
		runtime.KeepAlive(rd)
	}
}

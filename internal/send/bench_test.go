package send_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// BenchmarkSend measures messages per second over pooled, reused connections
// into an in-process capture server (which shares the CPU with the sender, so
// this is a lower bound for the sender alone).
func BenchmarkSend(b *testing.B) {
	for _, conns := range []int{1, 8} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			srv := startCapture(b, smtpcapture.Config{DiscardData: true})
			p := newPool(b, plainConfig(srv), conns)
			var n atomic.Int64
			b.SetParallelism((conns + 1) / 2) // GOMAXPROCS*parallelism goroutines >= conns
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				c, err := p.Get(b.Context())
				if err != nil {
					b.Error(err)
					return
				}
				defer p.Put(c)
				for pb.Next() {
					m := sampleMessage(fmt.Sprintf("r%d@example.org", n.Add(1)))
					if err := c.Send(b.Context(), m); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkBuild measures building the MIME message alone.
func BenchmarkBuild(b *testing.B) {
	m := sampleMessage("r@example.org")
	b.ReportAllocs()
	for b.Loop() {
		if err := send.BuildForBenchmark(m); err != nil {
			b.Fatal(err)
		}
	}
}

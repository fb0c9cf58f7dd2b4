package send_test

import (
	"fmt"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

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

// BenchmarkSendSMTPSink measures sending into postfix's smtp-sink (a real,
// pipelining SMTP server in its own process, so the sender's CPU profile is
// its own): 8 pooled connections, as the worker uses them.
func BenchmarkSendSMTPSink(b *testing.B) {
	for _, pipelining := range []bool{true, false} {
		b.Run(fmt.Sprintf("pipelining=%v", pipelining), func(b *testing.B) {
			const conns = 8
			p := newPool(b, startSMTPSink(b), conns)
			if !pipelining {
				send.DisablePipelining(p)
			}
			var n atomic.Int64
			b.SetParallelism((conns + 1) / 2)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := processCPU(b)
			b.RunParallel(func(pb *testing.PB) {
				c, err := p.Get(b.Context())
				if err != nil {
					b.Error(err)
					return
				}
				defer p.Put(c)
				for pb.Next() {
					m := sampleMessage("r" + strconv.FormatInt(n.Add(1), 10) + "@example.org")
					if err := c.Send(b.Context(), m); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-us/msg")
		})
	}
}

// processCPU returns the CPU time (user + system) this process has used.
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

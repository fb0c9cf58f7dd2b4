package send_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/tidings-mail/tidings/internal/send"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

// BenchmarkSend measures messages per second over pooled, reused connections
// into an in-process capture server (which shares the CPU with the sender, so
// this is a lower bound for the sender alone), with the bench's
// mixed-language messages.
func BenchmarkSend(b *testing.B) {
	msgs := mixMessages(b)
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
					i := n.Add(1)
					m := *msgs[i%int64(len(msgs))]
					m.To = "r" + strconv.FormatInt(i, 10) + "@example.org"
					if err := c.Send(b.Context(), &m); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkBuild measures building the bench's mixed-language messages (the
// welcome template rendered in six languages, testdata/mix) for a server
// with and without 8BITMIME, and, for comparison, building the same
// messages with go-mail's Msg.WriteTo (the reason this package writes MIME
// itself: see mime.go).
func BenchmarkBuild(b *testing.B) {
	msgs := mixMessages(b)
	for _, eightBit := range []bool{true, false} {
		b.Run(fmt.Sprintf("writer=tidings/8bitmime=%v", eightBit), func(b *testing.B) {
			b.ReportAllocs()
			var size int
			cpu0 := processCPU(b)
			for i := 0; b.Loop(); i++ {
				n, err := send.BuildForBenchmark(msgs[i%len(msgs)], eightBit)
				if err != nil {
					b.Fatal(err)
				}
				size += n
			}
			b.ReportMetric(float64(size)/float64(b.N), "bytes/msg")
			b.ReportMetric(float64((processCPU(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
		b.Run(fmt.Sprintf("writer=go-mail/8bitmime=%v", eightBit), func(b *testing.B) {
			b.ReportAllocs()
			var size int
			cpu0 := processCPU(b)
			for i := 0; b.Loop(); i++ {
				n, err := goMailWrite(io.Discard, msgs[i%len(msgs)], eightBit)
				if err != nil {
					b.Fatal(err)
				}
				size += int(n)
			}
			b.ReportMetric(float64(size)/float64(b.N), "bytes/msg")
			b.ReportMetric(float64((processCPU(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// goMailWrite writes m with go-mail's public API, used as it would be here:
// body parts written from the strings without a copy, 8bit when the server
// offers 8BITMIME, else quoted-printable.
func goMailWrite(w io.Writer, m *send.Message, eightBit bool) (int64, error) {
	enc := mail.EncodingQP
	if eightBit {
		enc = mail.NoEncoding
	}
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent(), mail.WithEncoding(enc))
	if err := msg.From(m.From); err != nil {
		return 0, err
	}
	if err := msg.AddToFormat(m.ToName, m.To); err != nil {
		return 0, err
	}
	msg.Subject(m.Subject)
	msg.SetDateWithValue(m.Date)
	msg.SetMessageIDWithValue(m.MessageID)
	for _, h := range m.Headers {
		msg.SetGenHeader(mail.Header(h.Name), h.Value)
	}
	writer := func(s string) func(io.Writer) (int64, error) {
		return func(w io.Writer) (int64, error) {
			n, err := io.WriteString(w, s)
			return int64(n), err
		}
	}
	msg.SetBodyWriter(mail.TypeTextPlain, writer(m.Text))
	msg.AddAlternativeWriter(mail.TypeTextHTML, writer(m.HTML))
	return msg.WriteTo(w)
}

// mixLangs are the bench's six languages with its recipients' names.
var mixLangs = []struct{ lang, name string }{
	{"en", "Ada Lovelace"}, {"de", "Jürg Müller"}, {"fr", "Zoë Dupont"},
	{"it", "Niccolò Rossi"}, {"ja", "山田 太郎"}, {"ar", "ليلى حداد"},
}

// mixMessages returns the bench's messages: the welcome template rendered
// in its six languages (testdata/mix, written by tidings preview), with the
// headers the worker's Composer adds.
func mixMessages(tb testing.TB) []*send.Message {
	tb.Helper()
	var out []*send.Message
	for i, l := range mixLangs {
		read := func(ext string) string {
			b, err := os.ReadFile(filepath.Join("testdata", "mix", l.lang+"."+ext))
			if err != nil {
				tb.Fatal(err)
			}
			return string(b)
		}
		out = append(out, &send.Message{
			From: "Bench <bench@tidings.example>", To: "user" + strconv.Itoa(i) + "@bench.example", ToName: l.name,
			Subject: read("subject"), Text: read("txt"), HTML: read("html"),
			MessageID: "bench.20458fa441501f6" + strconv.Itoa(i) + "@tidings.example",
			Date:      time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
			Headers:   []send.Header{{Name: "X-Tidings-Campaign", Value: "bench"}, {Name: "Content-Language", Value: l.lang}},
		})
	}
	return out
}

// BenchmarkSendSMTPSink measures sending the bench's mixed-language
// messages into postfix's smtp-sink (a real, pipelining SMTP server in its
// own process, so the sender's CPU profile is its own): 8 pooled
// connections, as the worker uses them, with and without pipelining and
// 8bit bodies (smtp-sink offers PIPELINING and 8BITMIME).
func BenchmarkSendSMTPSink(b *testing.B) {
	msgs := mixMessages(b)
	for _, tt := range []struct{ pipelining, eightBit bool }{{true, true}, {true, false}, {false, true}} {
		b.Run(fmt.Sprintf("pipelining=%v/8bitmime=%v", tt.pipelining, tt.eightBit), func(b *testing.B) {
			const conns = 8
			p := newPool(b, startSMTPSink(b), conns)
			if !tt.pipelining {
				send.DisablePipelining(p)
			}
			if !tt.eightBit {
				send.Disable8BitMIME(p)
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
					i := n.Add(1)
					m := *msgs[i%int64(len(msgs))]
					m.To = "r" + strconv.FormatInt(i, 10) + "@example.org"
					if err := c.Send(b.Context(), &m); err != nil {
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

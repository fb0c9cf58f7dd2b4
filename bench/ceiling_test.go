package main

import (
	"bufio"
	"bytes"
	"context"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/freeport"
	"github.com/tidings-mail/tidings/internal/smtpcapture"
)

func TestPoolIndexes(t *testing.T) {
	t.Parallel()
	tests := []struct{ n, k, want int }{
		{10, 4200, 10},        // small campaign: every recipient
		{3000, 4200, 3000},    // idem
		{100000, 4200, 4200},  // 100 blocks of 42
		{100000, 4210, 4200},  // rounded down to whole blocks
		{1000000, 8400, 8400}, // 200 blocks
		{100, 10, 100},        // fewer than one block asked: every recipient
		{100043, 4200, 4200},  // n not a multiple of 42
		{4200, 4200, 4200},    // k == n
		{4201, 4200, 4200},    // one block short of... still 100 blocks
		{50000, 42 * 1000, 42000} /* most of it */}
	for _, tt := range tests {
		idx := poolIndexes(tt.n, tt.k)
		if len(idx) != tt.want {
			t.Errorf("poolIndexes(%d, %d): %d indexes, want %d", tt.n, tt.k, len(idx), tt.want)
			continue
		}
		seen := map[int]bool{}
		mix := map[[2]int]int{}
		for _, i := range idx {
			if i < 0 || i >= tt.n || seen[i] {
				t.Fatalf("poolIndexes(%d, %d): index %d out of range or repeated", tt.n, tt.k, i)
			}
			seen[i] = true
			mix[[2]int{i % len(langs), i % 7}]++
		}
		if len(idx) < tt.n {
			// Every language x post count the same number of times.
			for key, c := range mix {
				if c != len(idx)/mixPeriod {
					t.Errorf("poolIndexes(%d, %d): combination %v %d times, want %d", tt.n, tt.k, key, c, len(idx)/mixPeriod)
				}
			}
			// Spread over the whole campaign, so ids have the campaign's lengths.
			if last := idx[len(idx)-1]; last < tt.n*9/10 {
				t.Errorf("poolIndexes(%d, %d): last index %d, want the pool to reach the end of the campaign", tt.n, tt.k, last)
			}
		}
	}
}

// TestDotStuff compares dotStuff with net/textproto's DotWriter, which
// is what an SMTP client writes.
func TestDotStuff(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"a", "a\r\n", ".\r\n", ".a\r\n.\r\n..\r\n", "x\r\n.", "Subject: s\r\n\r\nbody\r\n.hidden\r\nend",
		"line\r\n\r\n.\r\n.\r\n", "ünïcödé\r\n.日本\r\n",
	} {
		var want bytes.Buffer
		w := textproto.NewWriter(bufio.NewWriter(&want)).DotWriter()
		_, _ = w.Write([]byte(in))
		_ = w.Close()
		if got := dotStuff([]byte(in)); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("dotStuff(%q) = %q, want %q (textproto)", in, got, want.Bytes())
		}
	}
}

func TestSteadyRate(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(0, 0)
	at := func(ms, n int) countAt { return countAt{t0.Add(time.Duration(ms) * time.Millisecond), n} }
	// 1000 messages: 100 per 100 ms from 0, so 10% at 100 ms, 90% at 900 ms.
	var s []countAt
	for i := 0; i <= 10; i++ {
		s = append(s, at(i*100, i*100))
	}
	if got := steadyRate(s, 1000); got < 999 || got > 1001 {
		t.Errorf("steadyRate = %f, want 1000", got)
	}
	// Interpolated inside a sample interval: 0 -> 500 at 500 ms, then 1000 at 600 ms.
	s = []countAt{at(0, 0), at(500, 500), at(600, 1000)}
	// 100 at 100 ms, 900 at 580 ms: 800 messages in 480 ms.
	if got, want := steadyRate(s, 1000), 800/0.48; got < want-1 || got > want+1 {
		t.Errorf("steadyRate = %f, want %f", got, want)
	}
	if got := steadyRate(s[:2], 1000); got != 0 {
		t.Errorf("steadyRate without reaching 90%% = %f, want 0", got)
	}
}

// TestCeilingReplaysTidingsMessages prepares the ceiling's messages with
// tidings' render and send packages, replays them with the bare sender to a
// capture server and checks that it received exactly what tidings' sender
// wrote: envelope, BODY parameter and data, byte for byte; and that the
// sender made two writes a message, or one and one a connection more when
// it chains a message's data with the next message's commands.
func TestCeilingReplaysTidingsMessages(t *testing.T) {
	t.Parallel()
	msgs, captured := prepareForTest(t, 84)
	const n, conns = 84 * 2, 3 // every message twice
	greetings := int64(conns)  // one EHLO a connection
	for _, tc := range []struct {
		name                 string
		chain                bool
		minWrites, maxWrites int64
	}{
		{"two writes a message", false, greetings + 2*n, greetings + 2*n},
		// The first message's commands alone on each connection that sent
		// any (at least one, at most all), then one write a message.
		{"chained", true, greetings + n + 1, greetings + n + conns},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := replayToCapture(t, msgs, captured, n, conns, tc.chain)
			if res.Writes < tc.minWrites || res.Writes > tc.maxWrites {
				t.Errorf("%d writes for %d messages over %d connections, want %d to %d", res.Writes, n, conns, tc.minWrites, tc.maxWrites)
			}
		})
	}
}

// replayToCapture sends n messages (msgs in turn) over conns connections
// to a capture server and checks what it received against captured, each
// message twice.
func replayToCapture(t *testing.T, msgs []wireMessage, captured []smtpcapture.Message, n, conns int, chain bool) ceilingResult {
	t.Helper()
	ctx := t.Context()

	srv, err := smtpcapture.Start(ctx, smtpcapture.Config{NoSMTPUTF8: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	s, err := dialBare(ctx, srv.Addr(), conns)
	if err != nil {
		t.Fatal(err)
	}
	s.chain = chain
	res, err := s.run(ctx, n, msgs)
	s.close()
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != n || res.Conns != conns {
		t.Fatalf("sent %d over %d connections, want %d over %d", res.Sent, res.Conns, n, conns)
	}
	var wantOut int64
	for j := range n {
		wantOut += int64(len(msgs[j%len(msgs)].cmds) + len(msgs[j%len(msgs)].data))
	}
	wantOut += int64(conns) * int64(len("EHLO bench.invalid\r\n"))
	if res.BytesOut != wantOut {
		t.Errorf("bytes out %d, want %d", res.BytesOut, wantOut)
	}
	got := srv.Messages()
	if len(got) != n {
		t.Fatalf("capture server got %d messages, want %d", len(got), n)
	}
	byTo := map[string][]smtpcapture.Message{}
	for _, m := range got {
		byTo[m.To[0]] = append(byTo[m.To[0]], m)
	}
	for _, want := range captured {
		ms := byTo[want.To[0]]
		if len(ms) != 2 {
			t.Fatalf("%s received %d times, want 2", want.To[0], len(ms))
		}
		for _, m := range ms {
			if m.From != want.From || m.Body != want.Body || m.SMTPUTF8 != want.SMTPUTF8 || !bytes.Equal(m.Data, want.Data) {
				t.Fatalf("replayed message to %s differs from tidings' (from %q/%q, body %q/%q, %d/%d bytes)",
					want.To[0], m.From, want.From, m.Body, want.Body, len(m.Data), len(want.Data))
			}
		}
	}
	return res
}

// TestCeilingAgainstSMTPSink runs the bare sender against postfix's
// smtp-sink, as the bench does, and checks smtp-sink's count and the
// kernel's byte counts.
func TestCeilingAgainstSMTPSink(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/usr/sbin/smtp-sink"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("smtp-sink missing under CI=true: apt-get install postfix")
		}
		t.Skip("smtp-sink not installed (apt-get install postfix)")
	}
	ctx := t.Context()
	msgs, _ := prepareForTest(t, 42)
	procs := &procSet{}
	defer procs.stopAll()
	port, err := freeport.Port()
	if err != nil {
		t.Fatal(err)
	}
	counter := filepath.Join(t.TempDir(), "count")
	if _, err := procs.startSink(ctx, port, counter); err != nil {
		t.Fatal(err)
	}
	meter, err := newWireMeter(port)
	if err != nil {
		t.Fatal(err)
	}
	s, err := dialBare(ctx, "127.0.0.1:"+strconv.Itoa(port), 4)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	const n = 500
	res, err := s.run(ctx, n, msgs)
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != n || res.CPU <= 0 || res.Elapsed <= 0 {
		t.Fatalf("result %+v", res)
	}
	err = pollUntil(ctx, 10*time.Second, func() (bool, error) {
		if err := meter.sample(); err != nil {
			return false, err
		}
		out, in, conns := meter.total()
		c, err := sinkCount(counter)
		return conns == 4 && out == uint64(res.BytesOut) && in == uint64(res.BytesIn) && c == n, err
	})
	if err != nil {
		out, in, conns := meter.total()
		c, _ := sinkCount(counter)
		t.Fatalf("kernel counted %d bytes out, %d in over %d connections (sender: %d, %d over 4); smtp-sink counted %d of %d: %v",
			out, in, conns, res.BytesOut, res.BytesIn, c, n, err)
	}
}

// prepareForTest prepares the ceiling's messages for the first k
// recipients of a bench campaign and returns them with what tidings' sender
// wrote (as captured).
func prepareForTest(t *testing.T, k int) ([]wireMessage, []smtpcapture.Message) {
	t.Helper()
	dir := t.TempDir()
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if err := writeRecipients(filepath.Join(dir, "recipients.csv"), k); err != nil {
		t.Fatal(err)
	}
	camp, err := writeCampaignFile(dir, "bench01", envPlain, repo, k, "unlimited")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	idx := poolIndexes(k, k)
	msgs, captured, err := prepareCeilingCaptured(ctx, camp, "bench01", idx)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != k || len(captured) != k {
		t.Fatalf("%d messages prepared, want %d", len(msgs), k)
	}
	return msgs, captured
}

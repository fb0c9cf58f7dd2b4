package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// ceilingRun is one run of the bare sender against smtp-sink.
type ceilingRun struct {
	Conns         int     `json:"connections"`
	MsgPerS       float64 `json:"msg_per_s"`        // all messages / first command to last reply
	SteadyMsgPerS float64 `json:"steady_msg_per_s"` // between 10% and 90% of the messages
	// CPUUsPerMsg is the bare sender's CPU (getrusage of the bench process,
	// which does nothing else meanwhile).
	CPUUsPerMsg float64 `json:"cpu_us_per_msg"`
	// WireBytesPerMsg and WireReplyBytesPerMsg are counted by the kernel
	// like tidings' (and checked against what the sender counted).
	WireBytesPerMsg      float64 `json:"wire_bytes_per_msg"`
	WireReplyBytesPerMsg float64 `json:"wire_reply_bytes_per_msg"`
	SinkUsPerMsg         float64 `json:"sink_us_per_msg"`
	// WritesPerMsg counts the sender's write calls (the greetings' too):
	// about 1 a message chained (the default), 2 with -ceiling-chain=false.
	WritesPerMsg float64 `json:"writes_per_msg"`
	Chained      bool    `json:"chained,omitempty"`
}

// ceilingSummary is the ceiling of a round: the runs just before and just
// after it, and their means.
type ceilingSummary struct {
	Runs            []ceilingRun `json:"runs"`
	MsgPerS         float64      `json:"msg_per_s"`
	SteadyMsgPerS   float64      `json:"steady_msg_per_s"`
	CPUUsPerMsg     float64      `json:"cpu_us_per_msg"`
	WireBytesPerMsg float64      `json:"wire_bytes_per_msg"`
	SinkUsPerMsg    float64      `json:"sink_us_per_msg"`
	// Spread is |before - after| / mean of msg/s: how much the machine
	// changed during the round.
	Spread float64 `json:"spread"`
}

func summarize(before, after ceilingRun) ceilingSummary {
	mean := func(f func(ceilingRun) float64) float64 { return (f(before) + f(after)) / 2 }
	s := ceilingSummary{Runs: []ceilingRun{before, after},
		MsgPerS:         mean(func(c ceilingRun) float64 { return c.MsgPerS }),
		SteadyMsgPerS:   mean(func(c ceilingRun) float64 { return c.SteadyMsgPerS }),
		CPUUsPerMsg:     mean(func(c ceilingRun) float64 { return c.CPUUsPerMsg }),
		WireBytesPerMsg: mean(func(c ceilingRun) float64 { return c.WireBytesPerMsg }),
		SinkUsPerMsg:    mean(func(c ceilingRun) float64 { return c.SinkUsPerMsg }),
	}
	if s.MsgPerS > 0 {
		s.Spread = math.Abs(before.MsgPerS-after.MsgPerS) / s.MsgPerS
	}
	return s
}

// ratios fills in the ratios to the ceiling and the checks that need it.
func (r *roundResult) ratios() {
	c := r.Ceiling
	div := func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		return a / b
	}
	r.RatioMsgPerS = div(r.MsgPerS, c.MsgPerS)
	r.RatioSteady = div(r.SteadyMsgPerS, c.SteadyMsgPerS)
	r.RatioWorkerCPU = div(r.WorkerUsPerMsg, c.CPUUsPerMsg)
	r.RatioTotalCPU = div(r.WorkerUsPerMsg+r.RedisUsPerMsg, c.CPUUsPerMsg)
	r.RatioWireBytes = div(r.WireBytesPerMsg, c.WireBytesPerMsg)
	r.Checks = append(r.Checks, wireCheck(r.WireBytesPerMsg, c.WireBytesPerMsg), steadyCheck(c))
}

// wireCheck checks that the ceiling sends the bytes tidings sends.
func wireCheck(tidings, ceiling float64) check {
	c := check{Name: "the ceiling sends tidings' messages (bytes on the wire within 1%)", OK: ceiling > 0 && math.Abs(tidings/ceiling-1) <= 0.01, Fatal: true,
		Detail: fmt.Sprintf("tidings %.1f bytes/msg, ceiling %.1f", tidings, ceiling),
		Failed: "the ceiling does NOT send tidings' messages: no bytes on the wire measured for the ceiling; rerun with smtp-sink reachable"}
	if ceiling > 0 {
		c.Failed = fmt.Sprintf("the ceiling does NOT send tidings' messages: tidings' bytes on the wire differ from the ceiling's by %+.1f%%, over 1%%; bench/ceiling.go no longer renders what the worker sends: update it", (tidings/ceiling-1)*100)
	}
	return c
}

// steadyCheck checks that the ceiling before the round and the one after
// it are within 10% of each other.
func steadyCheck(c ceilingSummary) check {
	return check{Name: "the machine was steady (ceiling before and after within 10%)", OK: c.Spread <= 0.10,
		Failed: fmt.Sprintf("the machine was NOT steady: the ceiling moved %.0f%% between before and after the round, over 10%%; rerun on a quiet machine", c.Spread*100),
		Detail: fmt.Sprintf("%.0f and %.0f msg/s", c.Runs[0].MsgPerS, c.Runs[1].MsgPerS)}
}

// runCeiling runs the bare sender over conns connections to smtp-sink and
// checks its byte counts against the kernel's.
func (b *bench) runCeiling(ctx context.Context, conns int, msgs []wireMessage) (*ceilingRun, error) {
	form := "one write a message"
	if !b.o.ceilingChain {
		form = "two writes a message"
	}
	fmt.Fprintf(b.out, "ceiling: bare pipelined sender (%s), %d messages over %d connections ...\n", form, b.o.n, conns)
	var base, end sample
	if err := b.measure(ctx, &base, nil); err != nil {
		return nil, err
	}
	meter, err := newWireMeter(b.sinkPort)
	if err != nil {
		return nil, err
	}
	s, err := dialBare(ctx, net.JoinHostPort("127.0.0.1", strconv.Itoa(b.sinkPort)), conns)
	if err != nil {
		return nil, err
	}
	defer s.close()
	s.chain = b.o.ceilingChain
	runtime.GC() // nothing left over from preparing to collect while measuring
	res, err := s.run(ctx, b.o.n, msgs)
	if err != nil {
		return nil, err
	}
	// Every byte was acknowledged before the last replies came; the
	// kernel's counts must equal the sender's exactly.
	var kOut, kIn uint64
	err = pollUntil(ctx, 5*time.Second, func() (bool, error) {
		if err := meter.sample(); err != nil {
			return false, err
		}
		var n int
		kOut, kIn, n = meter.total()
		return n == conns && kOut == uint64(res.BytesOut) && kIn == uint64(res.BytesIn), nil
	})
	if err != nil {
		return nil, fmt.Errorf("ceiling: the kernel counted %d bytes out and %d in, the sender %d and %d: the wire meter is wrong: %w",
			kOut, kIn, res.BytesOut, res.BytesIn, err)
	}
	err = pollUntil(ctx, 5*time.Second, func() (bool, error) {
		if err := b.measure(ctx, &end, nil); err != nil {
			return false, err
		}
		return end.sinkCount-base.sinkCount >= b.o.n, nil
	})
	if err != nil || end.sinkCount-base.sinkCount != b.o.n {
		return nil, fmt.Errorf("ceiling: smtp-sink counted %d messages, the sender sent %d", end.sinkCount-base.sinkCount, b.o.n)
	}
	per := func(v float64) float64 { return v / float64(res.Sent) }
	c := &ceilingRun{Conns: conns, MsgPerS: float64(res.Sent) / res.Elapsed.Seconds(), SteadyMsgPerS: res.Steady,
		CPUUsPerMsg:     per(float64(res.CPU.Microseconds())),
		WireBytesPerMsg: per(float64(kOut)), WireReplyBytesPerMsg: per(float64(kIn)),
		SinkUsPerMsg: per((end.sinkCPU - base.sinkCPU) * 1e6), WritesPerMsg: per(float64(res.Writes)), Chained: s.chain}
	fmt.Fprintf(b.out, "  %.0f msg/s (steady %.0f), %.1f µs CPU/msg, %.0f bytes/msg on the wire, %.2f writes/msg\n",
		c.MsgPerS, c.SteadyMsgPerS, c.CPUUsPerMsg, c.WireBytesPerMsg, c.WritesPerMsg)
	return c, nil
}

// report is the bench's machine-readable result: the last line of output.
type report struct {
	N           int           `json:"n"`
	Concurrency int           `json:"concurrency"`
	Rate        string        `json:"rate"`
	Fsync       string        `json:"fsync"`
	JournalSync string        `json:"journal_fsync,omitempty"`
	Cores       int           `json:"cores"`
	CPU         string        `json:"cpu"`
	LoadStart   float64       `json:"load_start"`
	LoadEnd     float64       `json:"load_end"`
	Rounds      []roundResult `json:"rounds"`
	// With -replica: what replication costs (replica attached, no
	// acknowledgement, minus the first round) and what the acknowledgement
	// costs on top (min_replica_acks 1 minus 0).
	ReplicationCosts []*costDiff `json:"replication_costs,omitempty"`
	AckCosts         []*costDiff `json:"ack_costs,omitempty"`
}

// costDiff is the difference between two rounds: b - a per message, and
// b / a for throughput.
type costDiff struct {
	MsgPerSRatio   float64 `json:"msg_per_s_ratio"`
	SteadyRatio    float64 `json:"steady_msg_per_s_ratio"`
	WorkerUsPerMsg float64 `json:"worker_us_per_msg"`
	RedisUsPerMsg  float64 `json:"redis_us_per_msg"`
	ReplicaUs      float64 `json:"replica_us_per_msg"`
}

func diff(a, b roundResult) *costDiff {
	d := &costDiff{WorkerUsPerMsg: b.WorkerUsPerMsg - a.WorkerUsPerMsg, RedisUsPerMsg: b.RedisUsPerMsg - a.RedisUsPerMsg,
		ReplicaUs: b.ReplicaUsPerMsg - a.ReplicaUsPerMsg}
	if a.MsgPerS > 0 {
		d.MsgPerSRatio = b.MsgPerS / a.MsgPerS
	}
	if a.SteadyMsgPerS > 0 {
		d.SteadyRatio = b.SteadyMsgPerS / a.SteadyMsgPerS
	}
	return d
}

// replicaCosts fills in ReplicationCosts and AckCosts: each acks 1 round
// against the acks 0 round before it, each acks 0 round against the last
// round without a replica and with as many workers before it.
func (rep *report) replicaCosts() {
	var plain, acks0 *roundResult
	for i := range rep.Rounds {
		r := &rep.Rounds[i]
		switch {
		case !r.Replica:
			plain = r
		case r.Acks == 0:
			acks0 = r
			if plain != nil && plain.Workers == r.Workers {
				rep.ReplicationCosts = append(rep.ReplicationCosts, diff(*plain, *r))
			}
		case acks0 != nil:
			rep.AckCosts = append(rep.AckCosts, diff(*acks0, *r))
		}
	}
}

// printRound prints one round's figures next to its ceiling's.
func printRound(w io.Writer, r roundResult) {
	c := r.Ceiling
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s, %d connections, %d messages:\t tidings\t ceiling (before / after)\t tidings / ceiling\n", r.label(), r.Conns, r.Sent)
	fmt.Fprintf(tw, "  msg/s, whole campaign (send to done)\t %.0f\t %.0f (%.0f / %.0f)\t %.2f\n", r.MsgPerS, c.MsgPerS, c.Runs[0].MsgPerS, c.Runs[1].MsgPerS, r.RatioMsgPerS)
	fmt.Fprintf(tw, "  staged, first message, 10 %%, 90 %%, last message, done seen\t %.2fs, %.2fs, %.2fs, %.2fs, %.2fs, %.2fs\t \t\n", r.StagingS, r.FirstMessageS, r.TenthS, r.NinetiethS, r.LastMessageS, r.WallS)
	if l := r.Lost; l != nil {
		fmt.Fprintf(tw, "  lost to the steady rate: to the first message (send's run), first 10 %%, last 10 %%, last message to done\t %.2fs: %.2fs (%.2fs), %+.2fs, %+.2fs, %.2fs\t \t\n", l.Seconds, l.FirstMessageS, l.StagingS, l.RampS, l.TailS, l.DoneS)
		fmt.Fprintf(tw, "  msg/s without send's run, over steady\t %.2f\t \t\n", l.SendingRatio)
	}
	fmt.Fprintf(tw, "  msg/s, steady (10%% to 90%%)\t %.0f\t %.0f\t %.2f\n", r.SteadyMsgPerS, c.SteadyMsgPerS, r.RatioSteady)
	fmt.Fprintf(tw, "  worker CPU µs/msg\t %.1f\t %.1f\t %.2f\n", r.WorkerUsPerMsg, c.CPUUsPerMsg, r.RatioWorkerCPU)
	fmt.Fprintf(tw, "  worker + Redis CPU µs/msg\t %.1f\t %.1f\t %.2f\n", r.WorkerUsPerMsg+r.RedisUsPerMsg, c.CPUUsPerMsg, r.RatioTotalCPU)
	fmt.Fprintf(tw, "  Redis CPU µs/msg (staging + sending; of sending, in the kernel)\t %.1f (%.1f + %.1f; %.1f)\t \t\n", r.RedisUsPerMsg, r.RedisStageUsPerMsg, r.RedisSendUsPerMsg, r.RedisSendSysUsPerMsg)
	fmt.Fprintf(tw, "  Redis commands/msg (scripts, WAIT)\t %.2f (%.2f, %.2f)\t \t\n", r.RedisCmdsPerMsg, r.RedisScriptsPerMsg, r.RedisWaitsPerMsg)
	if len(r.RedisTopCommands) > 0 {
		top := make([]string, len(r.RedisTopCommands))
		for i, cmd := range r.RedisTopCommands {
			top[i] = fmt.Sprintf("%s %.1f (%.2f)", cmd.Name, cmd.UsPerMsg, cmd.CallsPerMsg)
		}
		fmt.Fprintf(tw, "  Redis µs/msg by command (calls/msg; a script's includes its calls)\t %s\t \t\n", strings.Join(top, ", "))
	}
	fmt.Fprintf(tw, "  Redis commands/msg, sending (a script's calls included); requests/msg; bytes/msg read, written\t %.2f; %.4f; %.0f, %.0f\t \t\n",
		r.RedisSendCmdsPerMsg, r.RedisSendReadsPerMsg, r.RedisSendNetInPerMsg, r.RedisSendNetOutPerMsg)
	if len(r.RedisSendBreakdown) > 0 {
		fmt.Fprintf(tw, "  Redis sending, µs/msg in clients' commands + outside them (commands/msg; called by scripts)\t %.1f + %.1f (%.3f; %.3f)\t \t\n",
			r.RedisSendInCommandsUsPerMsg, r.RedisSendOutsideUsPerMsg, r.RedisSendClientCmdsPerMsg, r.RedisSendInScriptsPerMsg)
		var restUs, restCalls float64
		var rest int
		for _, c := range r.RedisSendBreakdown {
			if c.UsPerMsg < 0.005 {
				restUs, restCalls, rest = restUs+c.UsPerMsg, restCalls+c.CallsPerMsg, rest+1
				continue
			}
			fmt.Fprintf(tw, "    %s\t %.2f µs (%.4f calls, %.1f µs each)\t \t\n", c.Name, c.UsPerMsg, c.CallsPerMsg, c.UsPerMsg/c.CallsPerMsg)
		}
		if rest > 0 {
			fmt.Fprintf(tw, "    %d others\t %.2f µs (%.4f calls)\t \t\n", rest, restUs, restCalls)
		}
	}
	if r.Replica {
		fmt.Fprintf(tw, "  replica CPU µs/msg\t %.1f\t \t\n", r.ReplicaUsPerMsg)
	}
	fmt.Fprintf(tw, "  bytes/msg on the wire (replies)\t %.0f (%.0f)\t %.0f\t %.3f\n", r.WireBytesPerMsg, r.WireReplyBytesPerMsg, c.WireBytesPerMsg, r.RatioWireBytes)
	fmt.Fprintf(tw, "  smtp-sink CPU µs/msg\t %.1f\t %.1f\t\n", r.SinkUsPerMsg, c.SinkUsPerMsg)
	fmt.Fprintf(tw, "  staging\t %.2fs, send CPU %.2fs, peak RSS %.0f MB, Redis %.0f bytes/recipient\t \t\n", r.StagingS, r.SendCPUS, r.SendPeakRSSMB, r.RedisBytesPerRecipient)
	fmt.Fprintf(tw, "  worker peak RSS\t %.0f MB\t \t\n", r.WorkerPeakRSSMB)
	fmt.Fprintf(tw, "  delivery journal\t %.0f bytes/msg\t \t\n", r.JournalBytesPerMsg)
	if r.WorkerUsPerMsg > 0 && r.RedisSendUsPerMsg > 0 {
		fmt.Fprintf(tw, "  msg/s one core allows: worker, Redis (sending)\t %.0f, %.0f\t %.0f\t\n",
			1e6/r.WorkerUsPerMsg, 1e6/r.RedisSendUsPerMsg, 1e6/c.CPUUsPerMsg)
	}
	tw.Flush()
	for _, ch := range r.Checks {
		fmt.Fprintf(w, "  check %s\n", ch.line())
	}
}

// line is how the report prints ch: "ok: " and what held, or "WARNING: "
// (FAILED when fatal) and what went wrong; then the figures it read.
func (ch check) line() string {
	mark := "ok"
	if !ch.OK {
		mark = "WARNING"
		if ch.Fatal {
			mark = "FAILED"
		}
	}
	what := ch.Name
	if !ch.OK {
		what = ch.Failed
	}
	return fmt.Sprintf("%s: %s (%s)", mark, what, ch.Detail)
}

// printSummary prints every round in one table.
func printSummary(w io.Writer, rep report) {
	fmt.Fprintf(w, "\nsummary: n=%d, %d connections per worker, rate %s, Redis fsync %s, journal fsync %s, %d cores (%s), load average %.2f -> %.2f\n",
		rep.N, rep.Concurrency, cmp.Or(rep.Rate, "unlimited"), rep.Fsync, cmp.Or(rep.JournalSync, "default"), rep.Cores, rep.CPU, rep.LoadStart, rep.LoadEnd)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	cols := []string{"round", "conns", "msg/s", "ceiling", "ratio", "steady ratio", "worker µs", "Redis µs", "(sending)", "replica µs", "bare µs", "worker/bare", "B/msg", "worker MB", ""}
	fmt.Fprintln(tw, strings.Join(cols, "\t"))
	for _, r := range rep.Rounds {
		replica := "-"
		if r.Replica {
			replica = fmt.Sprintf("%.1f", r.ReplicaUsPerMsg)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.0f\t%.2f\t%.2f\t%.1f\t%.1f\t%.1f\t%s\t%.1f\t%.2f\t%.0f\t%.0f\t\n",
			r.label(), r.Conns, r.MsgPerS, r.Ceiling.MsgPerS, r.RatioMsgPerS, r.RatioSteady, r.WorkerUsPerMsg,
			r.RedisUsPerMsg, r.RedisSendUsPerMsg, replica, r.Ceiling.CPUUsPerMsg, r.RatioWorkerCPU, r.WireBytesPerMsg, r.WorkerPeakRSSMB)
	}
	tw.Flush()
	for _, c := range []struct {
		name string
		ds   []*costDiff
	}{{"replication (replica, acks 0 vs no replica)", rep.ReplicationCosts}, {"acknowledgement (acks 1 vs acks 0)", rep.AckCosts}} {
		for _, d := range c.ds {
			fmt.Fprintf(w, "cost of %s: msg/s x%.2f (steady x%.2f), worker %+.1f µs/msg, Redis %+.1f µs/msg, replica %+.1f µs/msg\n",
				c.name, d.MsgPerSRatio, d.SteadyRatio, d.WorkerUsPerMsg, d.RedisUsPerMsg, d.ReplicaUs)
		}
	}
}

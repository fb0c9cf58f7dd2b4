package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/childproc"
	"github.com/tidings-mail/tidings/internal/freeport"
	"github.com/tidings-mail/tidings/internal/store"
)

// round is one tidings campaign of the bench: a fresh campaign (its own
// name) sent by fresh worker processes against the bench's one Redis.
type round struct {
	Name    string `json:"campaign"`
	Workers int    `json:"workers"`
	Replica bool   `json:"replica"`          // a replica is attached to Redis
	Acks    int    `json:"min_replica_acks"` // redis.min_replica_acks of the workers
}

// env is the tidings environment the round's campaign is pinned to.
func (r round) env() string {
	if r.Acks > 0 {
		return envAck
	}
	return envPlain
}

// label is how the round is named in the output.
func (r round) label() string {
	s := fmt.Sprintf("tidings %d worker", r.Workers)
	if r.Workers > 1 {
		s += "s"
	}
	if r.Replica {
		s += fmt.Sprintf(", replica, acks %d", r.Acks)
	}
	return s
}

// roundResult is what one round measured. Per-message figures divide by the
// messages sent; CPU is user + system time.
type roundResult struct {
	round
	Conns    int     `json:"connections"` // SMTP connections: workers x concurrency
	Sent     int     `json:"sent"`
	WallS    float64 `json:"wall_s"`    // start of send to the campaign's state "done"
	StagingS float64 `json:"staging_s"` // start of send to its exit
	// LastMessageS is when smtp-sink had every message (from the start of
	// send; to progressEvery): WallS - LastMessageS is the time tidings took to
	// record the last outcomes plus the bench's lag in seeing "done".
	LastMessageS float64 `json:"last_message_s"`
	// FirstMessageS is when smtp-sink had the first message (from the start
	// of send; to progressEvery): FirstMessageS - StagingS is how long the workers
	// took to start sending once send had staged the campaign.
	FirstMessageS float64 `json:"first_message_s"`
	// TenthS and NinetiethS are when smtp-sink had 10 % and 90 % of the
	// messages (from the start of send): the steady phase lies between,
	// the ramp before, the tail after.
	TenthS     float64 `json:"tenth_s"`
	NinetiethS float64 `json:"ninetieth_s"`
	// Lost is the whole campaign's time beyond what its messages take at
	// the steady rate, by phase (lostTo): where the whole-campaign ratio
	// loses to the steady one.
	Lost *lostTime `json:"lost_to_steady,omitempty"`
	// MsgPerS is whole-campaign throughput: Sent / WallS.
	MsgPerS float64 `json:"msg_per_s"`
	// SteadyMsgPerS is the rate between 10% and 90% of the messages, as
	// counted by smtp-sink.
	SteadyMsgPerS float64 `json:"steady_msg_per_s"`
	// WorkerUsPerMsg is the CPU of every worker process from the start of
	// send to done (/proc/<pid>/stat).
	WorkerUsPerMsg float64 `json:"worker_us_per_msg"`
	// RedisUsPerMsg is redis-server's CPU (INFO cpu) from the start of send to
	// done: staging plus sending, split in the next two.
	RedisUsPerMsg      float64 `json:"redis_us_per_msg"`
	RedisStageUsPerMsg float64 `json:"redis_stage_us_per_msg"` // while send ran
	RedisSendUsPerMsg  float64 `json:"redis_send_us_per_msg"`  // after send exited
	// RedisSendSysUsPerMsg is the part of RedisSendUsPerMsg in the kernel
	// (used_cpu_sys): Redis's system calls.
	RedisSendSysUsPerMsg float64 `json:"redis_send_sys_us_per_msg"`
	// RedisCmdsPerMsg is the commands Redis processed per message (a script
	// call counts once), RedisScriptsPerMsg the EVAL and EVALSHA calls and
	// RedisWaitsPerMsg the WAIT calls (replica acknowledgements), from the
	// start of send to done.
	RedisCmdsPerMsg    float64 `json:"redis_cmds_per_msg"`
	RedisScriptsPerMsg float64 `json:"redis_scripts_per_msg"`
	RedisWaitsPerMsg   float64 `json:"redis_waits_per_msg"`
	// RedisTopCommands are the commands that took most of Redis's time
	// (INFO commandstats usec) from the start of send to done, per
	// message, with their calls per message; a script's time includes the
	// commands it calls, which are also counted on their own.
	RedisTopCommands []commandCost `json:"redis_top_commands"`
	// RedisSendCmdsPerMsg is RedisCmdsPerMsg of the sending phase alone
	// (from send's exit to done): total_commands_processed counts the
	// commands a script calls too.
	RedisSendCmdsPerMsg float64 `json:"redis_send_cmds_per_msg"`
	// RedisSendNetInPerMsg and RedisSendNetOutPerMsg are the bytes Redis
	// read from its clients and wrote to them in the sending phase (INFO
	// stats total_net_input_bytes, total_net_output_bytes; the bench's own
	// INFO and status calls included), per message.
	RedisSendNetInPerMsg  float64 `json:"redis_send_net_in_bytes_per_msg"`
	RedisSendNetOutPerMsg float64 `json:"redis_send_net_out_bytes_per_msg"`
	// RedisSendReadsPerMsg is the requests Redis read in the sending phase
	// (INFO stats total_reads_processed: a read event each, a pipeline's
	// commands as a rule one; the bench's own INFO and status calls
	// included), per message: what its system calls follow, where
	// RedisSendCmdsPerMsg counts commands however they came.
	RedisSendReadsPerMsg float64 `json:"redis_send_reads_per_msg"`
	// With -slowlog, the sending phase's commands as clients sent them
	// (a script is one, named by its file or its first key: slowlog.go),
	// their calls and µs per message; the µs of all of them, and Redis's
	// CPU outside them: the event loop, reading requests, writing replies.
	RedisSendBreakdown          []commandCost `json:"redis_send_breakdown,omitempty"`
	RedisSendClientCmdsPerMsg   float64       `json:"redis_send_client_cmds_per_msg,omitempty"`
	RedisSendInCommandsUsPerMsg float64       `json:"redis_send_in_commands_us_per_msg,omitempty"`
	RedisSendOutsideUsPerMsg    float64       `json:"redis_send_outside_commands_us_per_msg,omitempty"`
	RedisSendInScriptsPerMsg    float64       `json:"redis_send_in_scripts_cmds_per_msg,omitempty"` // commands the scripts called
	// ReplicaUsPerMsg is the replica's CPU (INFO cpu) over the same period.
	ReplicaUsPerMsg float64 `json:"replica_us_per_msg,omitempty"`
	// SinkUsPerMsg is smtp-sink's CPU (/proc): the same work per message in
	// every round and in the ceiling, a check on the others.
	SinkUsPerMsg float64 `json:"sink_us_per_msg"`
	// WireBytesPerMsg is what the workers wrote to smtp-sink (the kernel's
	// tcpi_bytes_acked of their connections), WireReplyBytesPerMsg what they
	// read from it.
	WireBytesPerMsg      float64 `json:"wire_bytes_per_msg"`
	WireReplyBytesPerMsg float64 `json:"wire_reply_bytes_per_msg"`
	WorkerPeakRSSMB      float64 `json:"worker_peak_rss_mb"` // the largest worker's VmHWM
	SendPeakRSSMB        float64 `json:"send_peak_rss_mb"`
	SendCPUS             float64 `json:"send_cpu_s"`
	// RedisBytesPerRecipient is the growth of Redis used_memory while send
	// staged the campaign, per recipient.
	RedisBytesPerRecipient float64 `json:"redis_bytes_per_recipient"`
	// JournalBytesPerMsg is the size of the round's delivery journals (its
	// campaign's directory under the environment's state_dir), per message.
	JournalBytesPerMsg float64 `json:"journal_bytes_per_msg"`
	// Ceiling is the bare sender over the same number of connections, run
	// just before and just after the round (their mean).
	Ceiling ceilingSummary `json:"ceiling"`
	// Ratios to the ceiling.
	RatioMsgPerS     float64 `json:"ratio_msg_per_s"`        // MsgPerS / ceiling msg/s
	RatioSteady      float64 `json:"ratio_steady_msg_per_s"` // SteadyMsgPerS / ceiling steady msg/s
	RatioWorkerCPU   float64 `json:"ratio_worker_cpu"`       // WorkerUsPerMsg / ceiling CPU per message
	RatioTotalCPU    float64 `json:"ratio_worker_redis_cpu"` // (worker + Redis) / ceiling CPU per message
	RatioWireBytes   float64 `json:"ratio_wire_bytes"`       // WireBytesPerMsg / the ceiling's: 1 when the messages are the same
	WorkerRusageCPUS float64 `json:"worker_rusage_cpu_s"`    // whole life of the workers, getrusage at exit: >= the measured CPU
	Checks           []check `json:"checks"`
}

// commandCost is one Redis command's time per message.
type commandCost struct {
	Name        string  `json:"name"`
	UsPerMsg    float64 `json:"us_per_msg"`
	CallsPerMsg float64 `json:"calls_per_msg"`
}

// topCommands returns the n commands whose usec grew most from base to end,
// per message of sent, largest first, each with its calls per message
// (the growth of calls from baseCalls to endCalls): how often a command
// runs tells a cost that moves with the hour from one that does not.
func topCommands(base, end, baseCalls, endCalls map[string]float64, sent, n int) []commandCost {
	var out []commandCost
	for name, u := range end {
		if d := u - base[name]; d > 0 && sent > 0 {
			out = append(out, commandCost{Name: name, UsPerMsg: d / float64(sent),
				CallsPerMsg: (endCalls[name] - baseCalls[name]) / float64(sent)})
		}
	}
	slices.SortFunc(out, func(a, b commandCost) int {
		return cmp.Or(cmp.Compare(b.UsPerMsg, a.UsPerMsg), cmp.Compare(a.Name, b.Name))
	})
	return out[:min(n, len(out))]
}

// check is one consistency check of a measurement; a failed fatal check
// fails the bench. Name says what holds when it passes; Failed, printed
// instead when it does not, says what went wrong and what to do.
type check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Fatal  bool   `json:"fatal"`
	Detail string `json:"detail"`
	Failed string `json:"-"`
}

// runRound runs round r: workers, then `tidings send`, then waits for the
// campaign to be done while sampling smtp-sink's count and the workers'
// connections, then stops the workers.
func (b *bench) runRound(ctx context.Context, r round) (roundResult, error) {
	res := roundResult{round: r, Conns: r.Workers * b.o.concurrency}
	campFile, err := writeCampaignFile(b.dir, r.Name, r.env(), b.repo, b.o.n, b.o.rate)
	if err != nil {
		return res, err
	}

	// Workers first, as an operator would have them running.
	workers := make([]*proc, r.Workers)
	for i := range workers {
		port, err := freeport.Port()
		if err != nil {
			return res, err
		}
		args := []string{"worker", "--env", r.env(), "--concurrency", strconv.Itoa(b.o.concurrency), "--log-level", "warn",
			"--metrics-addr", "127.0.0.1:" + strconv.Itoa(port)}
		if b.o.cpuProfile {
			args = append(args, "--cpuprofile", filepath.Join(b.dir, fmt.Sprintf("worker-%s-%d.pprof", r.Name, i)))
		}
		w, err := b.procs.start(fmt.Sprintf("worker %d", i), filepath.Join(b.dir, fmt.Sprintf("worker-%s-%d.log", r.Name, i)), b.env, b.bin, args...)
		if err != nil {
			return res, err
		}
		workers[i] = w
		if err := waitHealthy(ctx, w, port); err != nil {
			return res, err
		}
	}
	defer func() {
		for _, w := range workers {
			b.procs.stop(w, 30*time.Second)
		}
	}()
	// Running, as an operator's would be: a worker claims once it has said
	// it is alive for two seconds (store.CheckInWindow; README, "When Redis
	// loses a campaign").
	if err := b.waitSettled(ctx, r.env(), r.Workers); err != nil {
		return res, err
	}

	// Baselines.
	var base, staged, end sample
	if err := b.measure(ctx, &base, workers); err != nil {
		return res, err
	}
	mem0, err := b.redis.usedMemory(ctx)
	if err != nil {
		return res, err
	}
	meter, err := newWireMeter(b.sinkPort)
	if err != nil {
		return res, err
	}

	start := time.Now()
	sr, err := b.runSend(ctx, r, campFile)
	if err != nil {
		return res, err
	}
	res.StagingS, res.SendCPUS, res.SendPeakRSSMB = sr.elapsed.Seconds(), sr.cpu.Seconds(), sr.peakRSSMB
	if err := b.measure(ctx, &staged, workers); err != nil {
		return res, err
	}
	mem1, err := b.redis.usedMemory(ctx)
	if err != nil {
		return res, err
	}
	res.RedisBytesPerRecipient = (mem1 - mem0) / float64(b.o.n)
	if b.o.slowlog {
		if err := slowlogStart(ctx, b.redis); err != nil {
			return res, err
		}
	}

	// Follow progress through smtp-sink's count (no process spawned, no
	// Redis command) every progressEvery; ask tidings for the campaign's
	// state every statusEvery (a campaign paused or cancelled ends the
	// round), and back to back once smtp-sink has every message.
	// The first samples: nothing at the start of send, what smtp-sink had
	// when send exited (it may have started sending before the ticker's
	// first sample).
	progress := []countAt{{start, 0}, {start.Add(sr.elapsed), staged.sinkCount - base.sinkCount}}
	target := base.sinkCount + b.o.n
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	lastStatus, lastWire := time.Now(), time.Now()
	var st status
	for all := false; ; {
		if !all { // once smtp-sink has every message, ask tidings at once
			select {
			case <-ctx.Done():
				return res, fmt.Errorf("round %s: %w", r.Name, ctx.Err())
			case <-tick.C:
			}
		}
		now := time.Now()
		cnt, err := sinkCount(b.sinkCounter)
		if err != nil {
			return res, err
		}
		progress = append(progress, countAt{now, cnt - base.sinkCount})
		// A sample walks the kernel's whole socket table (about 5 ms
		// here): once a second is enough to catch connections that close
		// early; the last sample, at done, counts the others.
		if now.Sub(lastWire) >= time.Second {
			lastWire = now
			if err := meter.sample(); err != nil {
				return res, err
			}
		}
		for _, w := range workers {
			if w.exited() {
				return res, fmt.Errorf("%s exited during round %s: %s", w.name, r.Name, w.logTail())
			}
		}
		all = cnt >= target
		if !all && now.Sub(lastStatus) < statusEvery {
			continue
		}
		lastStatus = now
		if st, err = b.status(ctx, r); err != nil {
			return res, err
		}
		if st.State == "done" || st.State == "paused" || st.State == "cancelled" {
			break
		}
	}
	wall := time.Since(start)
	if b.o.keep {
		if err := writeProgress(filepath.Join(b.dir, "progress-"+r.Name+".tsv"), start, progress); err != nil {
			return res, err
		}
	}
	if err := b.measure(ctx, &end, workers); err != nil {
		return res, err
	}
	if err := meter.sample(); err != nil {
		return res, err
	}
	var logs []redis.SlowLog
	if b.o.slowlog {
		if logs, err = slowlogEnd(ctx, b.redis); err != nil {
			return res, err
		}
		if err := writeSlowlog(filepath.Join(b.dir, "slowlog-"+r.Name+".txt"), logs); err != nil {
			return res, err
		}
	}
	for _, w := range workers {
		rss, err := peakRSSMB(w.pid())
		if err != nil {
			return res, err
		}
		res.WorkerPeakRSSMB = max(res.WorkerPeakRSSMB, rss)
	}
	if st.State != "done" {
		return res, fmt.Errorf("round %s: campaign ended in state %s (%s), counts %v", r.Name, st.State, st.Reason, st.Counts)
	}

	sent := st.Counts["sent"]
	res.Sent, res.WallS = sent, wall.Seconds()
	if sent == 0 {
		return res, fmt.Errorf("round %s: nothing sent (counts %v)", r.Name, st.Counts)
	}
	jb, err := dirBytes(filepath.Join(b.dir, "state-"+r.env(), "journal", r.Name))
	if err != nil {
		return res, fmt.Errorf("round %s: size of the journals: %w", r.Name, err)
	}
	res.JournalBytesPerMsg = float64(jb) / float64(sent)
	per := func(sec float64) float64 { return sec / float64(sent) * 1e6 }
	res.MsgPerS = float64(sent) / wall.Seconds()
	res.SteadyMsgPerS = steadyRate(progress, b.o.n)
	if t, ok := crossing(progress, float64(b.o.n)); ok {
		res.LastMessageS = t.Sub(start).Seconds()
	}
	if t, ok := crossing(progress, 1); ok {
		res.FirstMessageS = t.Sub(start).Seconds()
	}
	if t, ok := crossing(progress, float64(b.o.n)/10); ok {
		res.TenthS = t.Sub(start).Seconds()
	}
	if t, ok := crossing(progress, float64(b.o.n)*9/10); ok {
		res.NinetiethS = t.Sub(start).Seconds()
	}
	res.Lost = lostTo(&res, b.o.n)
	res.WorkerUsPerMsg = per(end.workerCPU - base.workerCPU)
	res.RedisUsPerMsg = per(end.redisCPU - base.redisCPU)
	res.RedisStageUsPerMsg = per(staged.redisCPU - base.redisCPU)
	res.RedisSendUsPerMsg = per(end.redisCPU - staged.redisCPU)
	res.RedisSendSysUsPerMsg = per(end.redisSys - staged.redisSys)
	if b.replica != nil {
		res.ReplicaUsPerMsg = per(end.replicaCPU - base.replicaCPU)
	}
	res.SinkUsPerMsg = per(end.sinkCPU - base.sinkCPU)
	calls := func(names ...string) float64 {
		var d float64
		for _, n := range names {
			d += end.redisCalls[n] - base.redisCalls[n]
		}
		return d / float64(sent)
	}
	res.RedisCmdsPerMsg = (end.redisCmds - base.redisCmds) / float64(sent)
	res.RedisScriptsPerMsg = calls("eval", "evalsha", "eval_ro", "evalsha_ro", "fcall")
	res.RedisWaitsPerMsg = calls("wait")
	res.RedisTopCommands = topCommands(base.redisUsec, end.redisUsec, base.redisCalls, end.redisCalls, sent, 8)
	res.RedisSendCmdsPerMsg = (end.redisCmds - staged.redisCmds) / float64(sent)
	res.RedisSendNetInPerMsg = (end.redisNetIn - staged.redisNetIn) / float64(sent)
	res.RedisSendNetOutPerMsg = (end.redisNetOut - staged.redisNetOut) / float64(sent)
	res.RedisSendReadsPerMsg = (end.redisReads - staged.redisReads) / float64(sent)
	if b.o.slowlog {
		res.RedisSendBreakdown, res.RedisSendInCommandsUsPerMsg, res.RedisSendClientCmdsPerMsg, res.RedisSendInScriptsPerMsg = breakdown(logs, scriptFiles(), sent)
		res.RedisSendOutsideUsPerMsg = res.RedisSendUsPerMsg - res.RedisSendInCommandsUsPerMsg
	}
	wOut, wIn, conns := meter.total()
	res.WireBytesPerMsg, res.WireReplyBytesPerMsg = float64(wOut)/float64(sent), float64(wIn)/float64(sent)

	res.Checks = append(res.Checks, deliveryChecks(sent, b.o.n, fmt.Sprint(st.Counts), end.sinkCount-base.sinkCount, conns, res.Conns)...)
	res.Checks = append(res.Checks,
		redisCPUCheck(end.redisCPU-base.redisCPU, end.redisProc-base.redisProc),
		ackCheck(r, res.RedisWaitsPerMsg),
	)

	// Stop the workers now, to read their CPU over their whole life.
	var life time.Duration
	for _, w := range workers {
		cpu, _ := rusageCPU(b.procs.stop(w, 30*time.Second))
		life += cpu
	}
	res.WorkerRusageCPUS = life.Seconds()
	measured := end.workerCPU - base.workerCPU
	res.Checks = append(res.Checks, lifetimeCheck(measured, life.Seconds(), len(workers)))
	return res, nil
}

// deliveryChecks check that tidings sent every one of n recipients, that
// smtp-sink counted (sink) as many messages as it sent, and that the wire
// meter saw between 1 and maxConns connections. counts is the campaign's
// outcome counts, for the detail.
func deliveryChecks(sent, n int, counts string, sink, conns, maxConns int) []check {
	return []check{
		{Name: "every recipient sent", OK: sent == n, Fatal: true,
			Failed: fmt.Sprintf("NOT every recipient was sent: %d of %d; read the workers' logs (--keep keeps them)", sent, n),
			Detail: fmt.Sprintf("sent %d of %d (counts %s)", sent, n, counts)},
		{Name: "smtp-sink received each message once", OK: sink == sent, Fatal: true,
			Failed: sinkFailed(sink, sent),
			Detail: fmt.Sprintf("smtp-sink counted %d messages, tidings %d sent", sink, sent)},
		{Name: "every SMTP connection metered", OK: conns >= 1 && conns <= maxConns,
			Failed: fmt.Sprintf("the wire meter saw %d SMTP connections, not 1 to %d: do not trust this round's bytes on the wire; rerun with nothing else connecting to smtp-sink", conns, maxConns),
			Detail: fmt.Sprintf("%d connections seen, at most %d expected", conns, maxConns)},
	}
}

// sinkFailed says how smtp-sink's count differs from what tidings sent.
func sinkFailed(sink, sent int) string {
	if sink < sent {
		return fmt.Sprintf("smtp-sink did NOT receive each message once: %d fewer than tidings sent, lost on the way; read the workers' logs (--keep keeps them)", sent-sink)
	}
	return fmt.Sprintf("smtp-sink did NOT receive each message once: %d more than tidings sent, sent twice or by something else; rerun with nothing else sending to smtp-sink", sink-sent)
}

// lifetimeCheck checks that the workers' CPU measured during the campaign
// (/proc) is within their CPU over their whole life (getrusage at exit),
// with 20 ms of slack a worker.
func lifetimeCheck(measured, life float64, workers int) check {
	return check{Name: "worker CPU within the workers' lifetime CPU (getrusage)",
		Failed: fmt.Sprintf("the workers' CPU measured during the campaign EXCEEDS their lifetime CPU by %.2fs: the /proc readings are wrong, do not trust the worker µs/msg of this round", measured-life),
		OK:     measured <= life+0.02*float64(workers),
		Detail: fmt.Sprintf("measured %.2fs during the campaign, %.2fs over their life", measured, life)}
}

// ackCheck checks that the workers asked for replica acknowledgements
// (Redis WAIT) exactly when the round configured them.
func ackCheck(r round, waitsPerMsg float64) check {
	if r.Acks > 0 {
		return check{Name: "replica acknowledgements requested (WAIT)", OK: waitsPerMsg > 0, Fatal: true,
			Failed: "NO replica acknowledgement was requested (no WAIT) in a round with min_replica_acks: the round did not measure the acknowledgement; check the round's environment in tidings.yaml",
			Detail: fmt.Sprintf("%.3f WAIT per message with min_replica_acks %d", waitsPerMsg, r.Acks)}
	}
	return check{Name: "no replica acknowledgement requested", OK: waitsPerMsg == 0, Fatal: true,
		Failed: "replica acknowledgements WERE requested (WAIT) in a round without min_replica_acks: its figures include waits it should not have; check the round's environment in tidings.yaml",
		Detail: fmt.Sprintf("%.3f WAIT per message with min_replica_acks 0", waitsPerMsg)}
}

// sendResult is what one `tidings send` took.
type sendResult struct {
	elapsed   time.Duration
	cpu       time.Duration
	peakRSSMB float64
}

// runSend runs `tidings send` for round r's campaign file.
func (b *bench) runSend(ctx context.Context, r round, campFile string) (sendResult, error) {
	start := time.Now()
	send := exec.CommandContext(ctx, b.bin, "send", campFile, "--env", r.env(), "--confirm", r.Name)
	send.Env = b.env
	logPath := filepath.Join(b.dir, "send-"+r.Name+".log")
	out, err := os.Create(logPath)
	if err != nil {
		return sendResult{}, fmt.Errorf("run tidings send: %w", err)
	}
	send.Stdout, send.Stderr = out, out
	child, err := childproc.Start(send)
	if err == nil {
		err = child.Err()
	}
	out.Close()
	if err != nil {
		log, _ := os.ReadFile(logPath)
		return sendResult{}, fmt.Errorf("tidings send: %w\n%s", err, log)
	}
	res := sendResult{elapsed: time.Since(start)}
	res.cpu, res.peakRSSMB = rusageCPU(send.ProcessState)
	return res, nil
}

// redisCPUCheck checks Redis's CPU time as INFO cpu says it (got) against
// /proc's reading of its process (proc).
func redisCPUCheck(got, proc float64) check {
	return cpuCheck("Redis CPU: INFO cpu agrees with /proc", "Redis CPU: INFO cpu DISAGREES with /proc", "do not trust the Redis µs/msg of this round", got, proc)
}

// cpuCheck compares two readings of the same process's CPU time (the
// second from /proc, in 10 ms ticks); failed, it says what went wrong
// (failed), by how much, then what to do (advice).
func cpuCheck(name, failed, advice string, got, proc float64) check {
	tol := 0.03 + 0.03*proc
	return check{Name: name, OK: got >= proc-tol && got <= proc+tol,
		Failed: fmt.Sprintf("%s: the two differ by %+.2fs, over 30 ms + 3%%; %s", failed, got-proc, advice),
		Detail: fmt.Sprintf("%.3fs vs %.2fs", got, proc)}
}

// sample is one reading of every counter the bench follows.
type sample struct {
	workerCPU           float64 // sum over the workers, /proc
	redisCPU, redisProc float64 // INFO cpu and /proc
	redisSys, redisUser float64 // INFO cpu: used_cpu_sys, used_cpu_user
	redisCmds           float64 // INFO stats total_commands_processed
	redisNetIn          float64 // INFO stats total_net_input_bytes
	redisNetOut         float64 // INFO stats total_net_output_bytes
	redisReads          float64 // INFO stats total_reads_processed
	redisCalls          map[string]float64
	redisUsec           map[string]float64 // INFO commandstats usec, by command
	replicaCPU          float64            // INFO cpu
	sinkCPU             float64            // /proc
	sinkCount           int                // smtp-sink's message count
}

// measure reads every counter into s.
func (b *bench) measure(ctx context.Context, s *sample, workers []*proc) error {
	*s = sample{}
	var err error
	for _, w := range workers {
		c, err := cpuSeconds(w.pid())
		if err != nil {
			return err
		}
		s.workerCPU += c
	}
	if s.redisSys, s.redisUser, err = b.redis.cpuSplit(ctx); err != nil {
		return err
	}
	s.redisCPU = s.redisSys + s.redisUser
	if s.redisProc, err = cpuSeconds(b.redis.pid()); err != nil {
		return err
	}
	if s.redisCmds, s.redisCalls, s.redisUsec, err = b.redis.commands(ctx); err != nil {
		return err
	}
	if s.redisNetIn, s.redisNetOut, s.redisReads, err = b.redis.netBytes(ctx); err != nil {
		return err
	}
	if b.replica != nil {
		if s.replicaCPU, err = b.replica.cpu(ctx); err != nil {
			return err
		}
	}
	if b.sink != nil {
		if s.sinkCPU, err = cpuSeconds(b.sink.pid()); err != nil {
			return err
		}
		if s.sinkCount, err = sinkCount(b.sinkCounter); err != nil {
			return err
		}
	}
	return nil
}

// countAt is smtp-sink's count (since the round began) at a time.
type countAt struct {
	t time.Time
	n int
}

// steadyRate returns the rate between 10% and 90% of n messages, the times
// of crossing interpolated between samples; 0 when the samples do not span
// both.
func steadyRate(samples []countAt, n int) float64 {
	lo, hi := float64(n)/10, float64(n)*9/10
	t0, ok0 := crossing(samples, lo)
	t1, ok1 := crossing(samples, hi)
	if !ok0 || !ok1 || !t1.After(t0) {
		return 0
	}
	return (hi - lo) / t1.Sub(t0).Seconds()
}

// progressEvery is how often a round reads smtp-sink's count (a read of
// the end of its count file): the resolution of the first and last
// message's times, and the most the bench adds between the last message
// and its first look at tidings' state. statusEvery is how often it asks
// `tidings status` meanwhile (a process: about 40 ms of CPU, on cores
// the campaign uses; the ceiling runs have no such observer).
const (
	progressEvery = 10 * time.Millisecond
	statusEvery   = 10 * time.Second
)

// writeProgress writes the samples of smtp-sink's count to path, one a
// line: seconds from start (the start of send, also written in the first
// line) and messages counted.
func writeProgress(path string, start time.Time, samples []countAt) error {
	buf := fmt.Appendf(nil, "# start of send %s; seconds since, messages smtp-sink counted\n", start.UTC().Format(time.RFC3339Nano))
	for _, p := range samples {
		buf = fmt.Appendf(buf, "%.4f\t%d\n", p.t.Sub(start).Seconds(), p.n)
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		return fmt.Errorf("write the round's progress: %w", err)
	}
	return nil
}

// crossing returns when the count reached v, interpolated between the
// samples around it.
func crossing(samples []countAt, v float64) (time.Time, bool) {
	for i := 1; i < len(samples); i++ {
		a, b := samples[i-1], samples[i]
		if float64(b.n) >= v && float64(a.n) < v {
			f := (v - float64(a.n)) / float64(b.n-a.n)
			return a.t.Add(time.Duration(f * float64(b.t.Sub(a.t)))), true
		}
	}
	return time.Time{}, false
}

// waitHealthy waits until worker w answers /healthz on port.
func waitHealthy(ctx context.Context, w *proc, port int) error {
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/healthz"
	err := pollUntil(ctx, 30*time.Second, func() (bool, error) {
		if w.exited() {
			return false, fmt.Errorf("exited: %s", w.logTail())
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	http.DefaultClient.CloseIdleConnections()
	if err != nil {
		return fmt.Errorf("start %s: %w", w.name, err)
	}
	return nil
}

// waitSettled waits until n workers of environment env have said they are
// alive (store.Alive's registry) for longer than the window a new worker
// waits before it claims (store.CheckInWindow).
func (b *bench) waitSettled(ctx context.Context, env string, n int) error {
	key := store.WorkersKey(env)
	err := pollUntil(ctx, 30*time.Second, func() (bool, error) {
		words, err := b.redis.client.HGetAll(ctx, key).Result()
		if err != nil {
			return false, err
		}
		now, err := b.redis.client.Time(ctx).Result()
		if err != nil {
			return false, err
		}
		settled, win := 0, store.CheckInWindow.Milliseconds()
		for _, v := range words {
			// Alive (an earlier round's stopped workers stay listed for an
			// hour), and for longer than the window.
			var first, seen int64
			if _, err := fmt.Sscanf(v, "%d %d", &first, &seen); err == nil && now.UnixMilli()-seen <= win && seen-first > win+200 {
				settled++
			}
		}
		return settled >= n, nil
	})
	if err != nil {
		return fmt.Errorf("wait for %d workers to be settled: %w", n, err)
	}
	return nil
}

// status is what `tidings status --json` says of a campaign.
type status struct {
	State  string         `json:"state"`
	Reason string         `json:"reason"`
	Counts map[string]int `json:"counts"`
}

func (b *bench) status(ctx context.Context, r round) (status, error) {
	c := exec.CommandContext(ctx, b.bin, "status", r.Name, "--env", r.env(), "--json")
	c.Env = b.env
	out, err := c.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return status{}, fmt.Errorf("tidings status: %w: %s", err, ee.Stderr)
		}
		return status{}, fmt.Errorf("tidings status: %w", err)
	}
	var st status
	if err := json.Unmarshal(out, &st); err != nil {
		return status{}, fmt.Errorf("parse tidings status --json: %w", err)
	}
	return st, nil
}

// dirBytes is the size of the regular files under dir.
func dirBytes(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		n += fi.Size()
		return err
	})
	return n, err
}

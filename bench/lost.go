package main

// lostTime is how much longer a round took than its messages take at its
// steady rate (10 % to 90 %), split at the timeline's marks: Seconds =
// FirstMessageS + RampS + TailS + DoneS, and the steady phase itself
// loses nothing by its definition. A negative RampS or TailS is a phase
// faster than the steady one.
type lostTime struct {
	// Seconds is WallS less n / steady rate: the time the whole campaign
	// loses to the steady phase.
	Seconds float64 `json:"s"`
	// FirstMessageS is from the start of send to the first message, of
	// which StagingS is send's own run (it announces the campaign running
	// just before it exits, so the first message may come before its exit).
	FirstMessageS float64 `json:"first_message_s"`
	StagingS      float64 `json:"staging_s"`
	// RampS is the first 10 % of the messages' time beyond the steady
	// rate's, TailS the last 10 %'s.
	RampS float64 `json:"ramp_s"`
	TailS float64 `json:"tail_s"`
	// DoneS is from the last message to done seen: the last outcomes
	// recorded, the move to done, the status call that saw it.
	DoneS float64 `json:"done_s"`
	// SendingRatio is the whole campaign's msg/s without send's run (n /
	// (WallS - StagingS)) over the steady rate: what is left of the gap
	// once staging is taken out.
	SendingRatio float64 `json:"sending_over_steady"`
}

// lostTo splits the time round r (of n messages) lost to its steady rate;
// nil when the timeline is incomplete (no steady rate, or a mark missing).
func lostTo(r *roundResult, n int) *lostTime {
	if r.SteadyMsgPerS <= 0 || r.FirstMessageS <= 0 || r.TenthS <= 0 || r.NinetiethS <= 0 || r.LastMessageS <= 0 || r.WallS <= r.StagingS {
		return nil
	}
	tenth := float64(n) / 10 / r.SteadyMsgPerS // 10 % of the messages at the steady rate
	return &lostTime{
		Seconds:       r.WallS - float64(n)/r.SteadyMsgPerS,
		FirstMessageS: r.FirstMessageS,
		StagingS:      r.StagingS,
		RampS:         r.TenthS - r.FirstMessageS - tenth,
		TailS:         r.LastMessageS - r.NinetiethS - tenth,
		DoneS:         r.WallS - r.LastMessageS,
		SendingRatio:  float64(n) / (r.WallS - r.StagingS) / r.SteadyMsgPerS,
	}
}

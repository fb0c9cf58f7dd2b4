package worker

import (
	"strconv"

	"github.com/tidings-mail/tidings/internal/store"
)

// claimTokens gives each of claims its token, WorkerID + "/" + a claim
// number of the worker's in base 36 (Worker.claims), as before, but the
// window's numbers are taken with one atomic add and its tokens written
// into one string: one allocation a window, where each token cost two (the
// number's text and the concatenation) and an atomic add. The tokens are
// substrings of it, so it lives as long as any of them.
func (w *Worker) claimTokens(claims []store.Claim) {
	if len(claims) == 0 {
		return
	}
	id := w.cfg.WorkerID
	last := w.claims.Add(uint64(len(claims)))
	n := last - uint64(len(claims)) + 1 // the window's first number
	var room [512]byte                  // the window's text, on the stack when it fits
	b := room[:0]
	var endsRoom [64]int // where each token ends in b: on the stack for windows of up to 64
	ends := endsRoom[:0]
	for range claims {
		b = strconv.AppendUint(append(append(b, id...), '/'), n, 36)
		ends = append(ends, len(b))
		n++
	}
	s, start := string(b), 0 // the one allocation
	for j := range claims {
		claims[j].Token = s[start:ends[j]]
		start = ends[j]
	}
}

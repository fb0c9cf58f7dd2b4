package worker

import "github.com/tidings-mail/tidings/internal/store"

// BeforeCheck sets f to run in w's journal check of a campaign (check),
// before it reads the journals: a test's stand-in for a slow journal disk.
func BeforeCheck(w *Worker, f func()) { w.beforeCheck = f }

// AfterPass sets f to run at the end of each pass of w's dispatch loop,
// with the campaigns the pass saw (their state as last read) and whether
// it reconciled their chunks.
func AfterPass(w *Worker, f func(seen map[string]store.Probe, reconciled bool)) { w.afterPass = f }

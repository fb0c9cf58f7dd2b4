package worker

// BeforeCheck sets f to run in w's journal check of a campaign (check),
// before it reads the journals: a test's stand-in for a slow journal disk.
func BeforeCheck(w *Worker, f func()) { w.beforeCheck = f }

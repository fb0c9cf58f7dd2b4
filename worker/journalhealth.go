package worker

import "fmt"

// journalHealth is what /healthz says of the delivery journal (Handler):
// "" while it takes lines, or when a failure of one campaign's file alone
// stopped that campaign (its file deleted or replaced: a restart would
// lose the lines only this process still holds, so a liveness probe must
// not restart it for that); once a failure of the disk or of the journal
// directory stopped it for every campaign (journal.Shared: a full disk,
// a read-only file system, an I/O error), what failed and what to do: no
// campaign of this worker sends again until it is restarted, which a
// restart once the directory is fixed does.
func (w *Worker) journalHealth() string {
	j := w.m.journal.Load()
	if j == nil {
		return ""
	}
	err := j.Err()
	if err == nil {
		return ""
	}
	return fmt.Sprintf("delivery journal cannot be written (%v): every campaign of this worker is paused and it sends nothing; fix the journal directory %s (space, permissions, the disk), restart this worker, then resume the campaigns\n", err, j.Dir())
}

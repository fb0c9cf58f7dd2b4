package cli

import (
	"bytes"
	"time"

	"github.com/tidings-mail/tidings/internal/render"
	"github.com/tidings-mail/tidings/worker"
)

// emlFor turns a preview rendering into the complete message a worker would
// send: the same Composer builds both.
func emlFor(c *worker.Composer, r render.Rendered, to, toName string) ([]byte, error) {
	var b bytes.Buffer
	if _, err := c.Message(to, to, toName, r, time.Now()).WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

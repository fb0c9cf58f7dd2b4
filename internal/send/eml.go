package send

import (
	"fmt"
	"io"
)

// WriteTo writes m as a complete RFC 5322 message (what an SMTP server
// would receive), for .eml files in previews and rehearsals. It applies the
// same validation and header sanitising as Send.
func (m *Message) WriteTo(w io.Writer) (int64, error) {
	msg, err := build(m)
	if err != nil {
		return 0, err
	}
	n, err := msg.WriteTo(w)
	if err != nil {
		return n, fmt.Errorf("write message: %w", err)
	}
	return n, nil
}

package send

import (
	"bufio"
	"bytes"
	"net/textproto"
	"testing"
)

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

// TestDotStufferMatchesTextproto checks the one-pass dot-stuffing against
// net/textproto's DotWriter (which go-mail's Client.Data uses), for inputs
// split into writes at every possible point.
func TestDotStufferMatchesTextproto(t *testing.T) {
	t.Parallel()
	inputs := []string{
		"",
		"a",
		".",
		".\r\n",
		"..\r\n.\r\n",
		"line\r\n.dot\r\n..two\r\nend\r\n",
		"bare\nlf\n.dot after lf\n",
		"\n\n.\n",
		"cr\ralone\r\n.x",
		"ends with cr\r",
		"mixed\r\n\n.\r\n\r\n.",
	}
	for _, in := range inputs {
		var want bytes.Buffer
		tw := textproto.NewWriter(bufio.NewWriter(&want))
		dw := tw.DotWriter()
		_, _ = dw.Write([]byte(in))
		_ = dw.Close()
		_ = tw.W.Flush()
		for split := 0; split <= len(in); split++ {
			d := getStuffer()
			_, _ = d.Write([]byte(in[:split]))
			_, _ = d.Write([]byte(in[split:]))
			got := d.finish()
			if in == "" {
				// textproto ends an empty message with a blank line; an
				// empty message is never sent, so only the dot matters.
				got = append([]byte("\r\n"), got...)
			}
			if !bytes.Equal(got, want.Bytes()) {
				t.Errorf("%q split at %d: got %q, want %q", in, split, got, want.Bytes())
			}
			putStuffer(d)
		}
	}
}

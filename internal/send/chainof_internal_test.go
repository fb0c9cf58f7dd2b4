package send

import (
	"bytes"
	"testing"
)

// TestChainOfCopiesNoMessage: a message's data and the next message's
// commands are the same bytes whether the data's array has room for the
// commands (appended there: the data is not copied, and its bytes are
// left as they were) or not (both copied into the scratch buffer, which
// is kept for the next message).
func TestChainOfCopiesNoMessage(t *testing.T) {
	t.Parallel()
	data := []byte("Subject: hi\r\n\r\nhello\r\n.\r\n")
	cmd := []byte("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
	for _, tt := range []struct {
		name   string
		room   int  // spare capacity after the data
		inBody bool // the commands go into the data's array
	}{
		{"room for the commands", len(cmd), true},
		{"more room than needed", 4 * len(cmd), true},
		{"one byte short", len(cmd) - 1, false},
		{"no room", 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := append(make([]byte, 0, len(data)+tt.room), data...)
			scratch := make([]byte, 0, 8)
			out, kept := chainOf(body, cmd, scratch)
			if want := string(data) + string(cmd); string(out) != want {
				t.Fatalf("chain = %q, want %q", out, want)
			}
			if !bytes.Equal(body, data) {
				t.Fatalf("the data changed: %q, want %q", body, data)
			}
			if got := &out[0] == &body[0]; got != tt.inBody {
				t.Errorf("written from the data's own array = %v, want %v", got, tt.inBody)
			}
			if !tt.inBody && &kept[0] != &out[0] {
				t.Error("the copy is not kept as the scratch buffer for the next message")
			}
			if tt.inBody && cap(kept) != cap(scratch) {
				t.Error("the scratch buffer changed though nothing was copied")
			}
		})
	}
}

// BenchmarkChainOf: a bench-sized message's data (4,300 bytes, with the
// room bytes.Buffer leaves after it) and the next message's commands.
func BenchmarkChainOf(b *testing.B) {
	var raw bytes.Buffer
	raw.Grow(8192)
	raw.Write(bytes.Repeat([]byte("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!\r\n"), 66))
	raw.WriteString(".\r\n")
	body := raw.Bytes()
	cmd, _, _ := envelope{from: "community@altea.example", to: "recipient-000001@example.org", params: " BODY=8BITMIME"}.commands(nil)
	var scratch []byte
	b.ReportAllocs()
	for b.Loop() {
		var out []byte
		out, scratch = chainOf(body, cmd, scratch)
		if len(out) != len(body)+len(cmd) {
			b.Fatal(len(out))
		}
	}
}

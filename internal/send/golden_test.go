package send_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/send"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGolden holds the exact bytes of the bench's six languages for a server
// with 8BITMIME and one without, and of a message with hostile data, in
// testdata/golden (refresh with go test -update; a reviewer reads the diff).
func TestGolden(t *testing.T) {
	t.Parallel()
	type golden struct {
		name     string
		m        *send.Message
		eightBit bool
	}
	var tests []golden
	for i, m := range mixMessages(t) {
		m.Headers = append(m.Headers, send.Header{Name: "List-Unsubscribe", Value: "<https://altea.example/unsubscribe?id=u" + string(rune('0'+i)) + ">"})
		tests = append(tests, golden{mixLangs[i].lang + "-8bitmime", m, true}, golden{mixLangs[i].lang + "-7bit", m, false})
	}
	hostile := sampleMessage("josé@bücher.test")
	hostile.ToName = "=?UTF-8?B?QmNjOiB2aWN0aW1AZXZpbC50ZXN0?= " + strings.Repeat("n", 120)
	hostile.Subject = "Grüße\r\nBcc: victim@evil.test " + strings.Repeat("x", 100)
	hostile.From = `"Altea, Inc. (Mail)" <community@altea.example>`
	hostile.Headers = []send.Header{
		{Name: "X-Tidings-Campaign", Value: "altea-reregistration"},
		{Name: "List-Unsubscribe", Value: "<mailto:unsub@altea.example>, <https://altea.example/unsub?id=" + strings.Repeat("a1", 60) + "&x=\"\r\n =?UTF-8?B?QmNj?=>"},
	}
	hostile.Text = ".leading dot\nbare\rcr and a long line " + strings.Repeat("é", 600) + "\n"
	tests = append(tests, golden{"hostile-8bitmime", hostile, true}, golden{"hostile-7bit", hostile, false})

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, _, err := send.BuildForTest(tt.m, tt.eightBit, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab")
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", tt.name+".eml")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the golden file (go test -update rewrites it):\n got: %q\nwant: %q", tt.name, got, want)
			}
		})
	}
}

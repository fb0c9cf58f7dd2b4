package send_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings-mail/tidings/internal/golden"
	"github.com/tidings-mail/tidings/internal/send"
)

// TestGolden holds the exact bytes of the bench's six languages for a server
// with 8BITMIME and one without, and of a message with hostile data, in
// testdata/golden (refresh with go test -update; a reviewer reads the diff).
func TestGolden(t *testing.T) {
	t.Parallel()
	type goldenCase struct {
		name     string
		m        *send.Message
		eightBit bool
	}
	var tests []goldenCase
	for i, m := range mixMessages(t) {
		m.Headers = append(m.Headers, send.Header{Name: "List-Unsubscribe", Value: "<https://altea.example/unsubscribe?id=u" + string(rune('0'+i)) + ">"})
		tests = append(tests, goldenCase{mixLangs[i].lang + "-8bitmime", m, true}, goldenCase{mixLangs[i].lang + "-7bit", m, false})
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
	tests = append(tests, goldenCase{"hostile-8bitmime", hostile, true}, goldenCase{"hostile-7bit", hostile, false})

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, _, err := send.BuildForTest(tt.m, tt.eightBit, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab")
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", tt.name+".eml")
			golden.Check(t, path, string(got))
		})
	}
}

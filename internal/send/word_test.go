package send

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzWordLen checks wordLen, which for valid UTF-8 sizes an encoded-word
// without decoding each character, against wordLenRunes, which decodes
// them (and which wordLen uses for anything else): the same number of
// bytes and the same encoded size, for Q and B words, every room from the
// smallest to a whole word's. The seeds (run with go test) hold one-,
// two-, three- and four-byte characters, characters Q encodes as =XX,
// and invalid UTF-8.
func FuzzWordLen(f *testing.F) {
	for _, s := range []string{
		"Action requise : réinscrivez-vous sur la nouvelle communauté Altea",
		"【要対応】新しい Altea コミュニティへの再登録のお願い",
		"إجراء مطلوب: أعد التسجيل في مجتمع Altea الجديد",
		"Willkommen zurück 🎉 – bitte neu registrieren",
		"=?UTF-8?B?QmNj?= a_b=c?d" + strings.Repeat("é", 40),
		strings.Repeat("🎉", 30),
		"x",
		"bad \xff\xfe utf-8 \xe3\x81",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if v == "" {
			t.Skip("encodedWords writes no word for an empty value")
		}
		for _, useQ := range []bool{true, false} {
			for room := 1; room <= maxWordLen-wordExtra; room++ {
				n, size := wordLen(v, room, useQ, utf8.ValidString(v))
				wn, wsize := wordLenRunes(v, room, useQ)
				if n != wn || size != wsize {
					t.Fatalf("%q Q %v room %d: %d bytes, size %d; want %d, %d", v, useQ, room, n, size, wn, wsize)
				}
			}
		}
	})
}

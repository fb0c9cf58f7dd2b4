package recipient

import "testing"

// TestMojibakeIsNotALetterAtAWordsEnd: Ã, Å, Â and Ä are letters of
// Portuguese and Swedish (and of German, Finnish...), and a word written in
// capitals ends with them: "IRMÃ", "AMANHÃ", "PÅ". Followed at once by a
// closing quote, a guillemet, an ellipsis or a dash ("«IRMÃ»", "AMANHÃ…",
// "“PÅ”"), they are two characters that mojibake also writes (Ã» is û,
// Ã… is Å), and the row was refused as mojibake, repaired to "«IRMû":
// such a sequence at the end of a word in capitals, followed by no letter,
// is read as written. The same characters inside a word ("BJÃ–RK" for
// BJÖRK), after a small letter ("sÄ…" for są), or with a continuation
// no word ends on ("JOSÃ‰" for JOSÉ, "MÃœLLER") are still mojibake.
func TestMojibakeIsNotALetterAtAWordsEnd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		v    string
		moji bool
	}{
		{"«IRMÃ»", false},
		{"AMANHÃ…", false},
		{"“MAÇÃ”", false},
		{"A IRMÃ’s", true}, // a letter follows: Ã’ is Ò in a word
		{"IRMÃ’", false},
		{"“PÅ”", false},
		{"NÃO, AMANHÃ— talvez", false},
		{"JosÃ©", true},
		{"BJÃ–RK", true},
		{"JOSÃ‰", true},
		{"MÃœLLER", true},
		{"sÄ…", true},
		{"Ã»", true},
		{"donâ€™t", true},
		{"São", false},
	} {
		if _, got := firstMojibake(tc.v); got != tc.moji {
			t.Errorf("%q: mojibake %v, want %v", tc.v, got, tc.moji)
		}
	}
	rows, fatal := readRows(t, "email,locale,name,note\na@x.test,pt,Ana,«IRMÃ»\nb@x.test,pt,Rui,AMANHÃ…\nc@x.test,sv,Åsa,“PÅ”\n")
	wantFatal(t, fatal, nil)
	if len(rows) != 3 {
		t.Fatalf("%d rows read, want 3", len(rows))
	}
	for _, r := range rows {
		if r.err != nil {
			t.Errorf("line %d: %v, want the row accepted", r.rcp.Line, r.err)
		}
	}
}

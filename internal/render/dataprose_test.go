package render

import "testing"

// TestDataIsProse: what InspectData calls prose, and what it takes for a
// name (the same in every language). CJK sentences (no spaces between
// words) and sentences Written In Title Case were names to it, so check
// said nothing of them; a name with lower-case particles ("Mary Ann de la
// Cruz") was prose. Short CJK names and names of capitalised words stay
// names.
func TestDataIsProse(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		text  string
		prose bool
	}{
		{"Please log in before Friday", true},
		{"Log in", true},
		{"Altea Community", false},
		{"Summer Meetup 2026", false},
		{"altea", false},
		{"https://altea.example/re-register", false},
		// Title Case sentences: several words, some of them the small
		// words of a sentence (pronouns, prepositions of time, please).
		{"Please Log In Before Friday", true},
		{"Welcome To Your New Account", true},
		{"Bitte Melden Sie Sich Vor Freitag An", true},
		{"Veuillez Vous Connecter Avant Vendredi", true},
		{"The Museum Of Modern Art", false},
		{"Department Of Health", false},
		// Names with particles.
		{"Mary Ann de la Cruz", false},
		{"José María", false},
		{"Ludwig van Beethoven", false},
		{"Rendez-vous de la semaine", true},
		// CJK: no spaces between words.
		{"李小龍", false},
		{"山田太郎", false},
		{"アルテア", false},
		{"金曜日までにログインしてください", true},
		{"请在周五之前登录。", true},
		{"请在周五之前登录您的帐户", true},
		{"阿尔泰社区", false},
		{"금요일 전에 로그인하세요", true},
		{"김민준", false},
	} {
		if got := dataIsProse(tt.text); got != tt.prose {
			t.Errorf("dataIsProse(%q) = %v, want %v", tt.text, got, tt.prose)
		}
	}
}

package cli

import "github.com/tidings-mail/tidings/internal/preview"

// defaultSamples is the preview's data for a language no recipient has: a
// name in that language's script, so the preview shows how it looks.
func defaultSamples() map[string]preview.Sample {
	s := func(name, email, posts string) preview.Sample {
		return preview.Sample{Name: name, Email: email, Fields: map[string]string{"posts": posts}}
	}
	return map[string]preview.Sample{
		"":   s("Sample Recipient", "sample@example.org", "3"),
		"en": s("Ada Lovelace", "ada@example.org", "1"),
		"de": s("Jürg Müller", "juerg@example.org", "3"),
		"fr": s("Zoë Dupont", "zoe@example.org", "2"),
		"it": s("Niccolò Rossi", "niccolo@example.org", "5"),
		"es": s("Lucía Fernández", "lucia@example.org", "1"),
		"ja": s("山田 太郎", "taro@example.org", "3"),
		"ar": s("ليلى حداد", "layla@example.org", "11"),
		"ru": s("Иван Петров", "ivan@example.org", "21"),
		"pl": s("Łucja Wójcik", "lucja@example.org", "22"),
		"pt": s("João Silva", "joao@example.org", "2"),
	}
}

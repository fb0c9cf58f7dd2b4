package console

import "github.com/tidings-mail/tidings/internal/render"

// plurals shows every plural message of the template at the counts that
// pick each CLDR form of m.Lang. (Waiting for render's PluralMessages,
// PluralExamples and Message.)
func plurals(_ *render.Engine, _ render.Match, _ render.Data) []pluralRow { return nil }

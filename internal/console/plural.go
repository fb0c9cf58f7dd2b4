package console

import "github.com/tidings-mail/tidings/internal/render"

// plurals renders every plural message of the template (the keys used
// through tc) at one count per CLDR form that m.Lang needs, with the
// recipient's data d: QA sees each form as recipients will (Russian one=1,
// few=2, many=5, other=1.5). A message that cannot be rendered shows the
// error instead of its text.
func plurals(e *render.Engine, m render.Match, d render.Data) []pluralRow {
	keys := e.PluralMessages()
	if len(keys) == 0 {
		return nil
	}
	examples := e.PluralExamples(m.Lang)
	rows := make([]pluralRow, 0, len(keys))
	for _, k := range keys {
		row := pluralRow{Key: k}
		for _, ex := range examples {
			text, err := e.Message(m, k, ex.Count, d)
			if err != nil {
				text = "error: " + err.Error()
			}
			row.Forms = append(row.Forms, pluralForm{Form: ex.Form, Count: ex.Count, Text: text})
		}
		rows = append(rows, row)
	}
	return rows
}

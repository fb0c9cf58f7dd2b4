package journal

// EntryJSON is appendJSON for the external tests.
func EntryJSON(e Entry) ([]byte, error) { return e.appendJSON(nil, nil) }

package store

// ScriptSource is scriptSource for the tests of package store_test: the
// text Redis runs of lua/<name>.lua, its include lines replaced (reading
// the file itself would leave them comments, and the functions of
// lua/lib/ undefined).
func ScriptSource(name string) string { return scriptSource(name) }

package send

import "io"

// BuildForBenchmark builds and serialises m, for BenchmarkBuild.
func BuildForBenchmark(m *Message) error {
	msg, err := build(m)
	if err != nil {
		return err
	}
	_, err = msg.WriteTo(io.Discard)
	return err
}

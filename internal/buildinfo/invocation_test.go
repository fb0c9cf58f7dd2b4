package buildinfo

import "testing"

// TestInvocation: a binary go run built is run again with go run, of the
// module version it was built from or of ./cmd/tidings in a clone; any
// other with the path it was started with.
func TestInvocation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		arg0, exe, version, gocache, want string
	}{
		{"/tmp/go-build1234/b001/exe/tidings", "/tmp/go-build1234/b001/exe/tidings", "(devel)", "", "go run ./cmd/tidings"},
		{"tidings", "/root/.cache/go-build/ab/exe/tidings", "v1.2.0", "", "go run github.com/tidings-mail/tidings/cmd/tidings@v1.2.0"},
		{"tidings", "/var/gocache/ab/exe/tidings", "", "/var/gocache", "go run ./cmd/tidings"},
		{"tidings", "/usr/local/bin/tidings", "v1.2.0", "/var/gocache", "tidings"},
		{"./bin/tidings", "/work/bin/tidings", "(devel)", "", "./bin/tidings"},
		{"", "", "", "", "go run ./cmd/tidings"},
	}
	for _, tt := range tests {
		if got := invocation(tt.arg0, tt.exe, tt.version, tt.gocache); got != tt.want {
			t.Errorf("invocation(%q, %q, %q, %q) = %q, want %q", tt.arg0, tt.exe, tt.version, tt.gocache, got, tt.want)
		}
	}
}

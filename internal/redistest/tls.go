package redistest

import (
	"context"
	"net"
	"slices"
	"testing"
)

// StartTLSServer starts a dedicated redis-server (as [StartServer], with
// no configuration file) that also takes TLS connections, with the
// certificate and key in certFile and keyFile (PEM), on a port of its
// own, and no client certificate asked. It returns the server (its
// [Redis.Client] uses the plain port) and the TLS port's address,
// 127.0.0.1:PORT. args are more redis-server options (none that makes
// PING on the plain port fail, such as --requirepass: set a password
// with CONFIG SET or ACL SETUSER once it runs).
func StartTLSServer(t testing.TB, certFile, keyFile string, args ...string) (*Redis, string) {
	t.Helper()
	bin := need(t, "redis-server", "redis-server")
	dir := t.TempDir()
	p := &proc{name: "redis-server", bin: bin, dir: dir,
		args: append([]string{"--daemonize", "no", "--logfile", "", "--dir", dir, "--save", "", "--appendonly", "no",
			"--tls-cert-file", certFile, "--tls-key-file", keyFile, "--tls-auth-clients", "no"}, args...)}
	if err := launch(context.WithoutCancel(t.Context()), p, "--tls-port"); err != nil {
		t.Fatalf("redistest: start redis-server with TLS: %v", err)
	}
	t.Cleanup(p.kill)
	i := slices.Index(p.args, "--tls-port")
	tlsAddr := net.JoinHostPort("127.0.0.1", p.args[i+1])
	r := newRedis(p.addr, "", 0, false)
	r.proc = p
	t.Cleanup(r.closeClient)
	return r, tlsAddr
}

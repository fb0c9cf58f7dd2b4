package redistest

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
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

// MutualTLS is a redis-server of [StartMutualTLSServer].
type MutualTLS struct {
	*Redis         // its Client uses the plain port
	TLSAddr string // the TLS port's address, 127.0.0.1:PORT
	CA      *CA    // signs its certificate and the clients' it takes
	CAFile  string // CA's certificate (PEM)
}

// StartMutualTLSServer starts a redis-server (as [StartTLSServer]) that
// takes TLS clients only with a certificate a CA of its own signed
// (tls-auth-clients yes): a CA no trust store holds, whose certificate is
// in CAFile, and which signs clients' with [CA.ClientCert]. Its
// certificate is for 127.0.0.1, valid from an hour ago for a day.
func StartMutualTLSServer(t testing.TB) *MutualTLS {
	t.Helper()
	ca, caFile := newPrivateCA(t, "private redis CA")
	now := time.Now()
	certFile, keyFile := ca.ServerCert(t, []net.IP{net.IPv4(127, 0, 0, 1)}, now.Add(-time.Hour), now.Add(24*time.Hour))
	r, addr := StartTLSServer(t, certFile, keyFile, "--tls-auth-clients", "yes", "--tls-ca-cert-file", caFile)
	return &MutualTLS{Redis: r, TLSAddr: addr, CA: ca, CAFile: caFile}
}

// StartTLSSentinel starts one redis-sentinel (quorum 1) that monitors m as
// [MasterName] over TLS, showing m a client certificate of m's CA, and
// takes TLS clients only with a certificate of that CA, as m does. It
// returns the Sentinel's TLS address, 127.0.0.1:PORT. The Sentinels of
// [StartSentinel] speak plain TCP.
func StartTLSSentinel(t testing.TB, m *MutualTLS) string {
	t.Helper()
	bin := need(t, "redis-sentinel", "redis-sentinel")
	dir := t.TempDir()
	now := time.Now()
	certFile, keyFile := m.CA.ServerCert(t, []net.IP{net.IPv4(127, 0, 0, 1)}, now.Add(-time.Hour), now.Add(24*time.Hour))
	clientCert, clientKey := m.CA.ClientCert(t, "sentinel", now.Add(-time.Hour), now.Add(24*time.Hour))
	host, port, _ := net.SplitHostPort(m.TLSAddr)
	conf := filepath.Join(dir, "sentinel.conf")
	if err := os.WriteFile(conf, []byte("sentinel monitor "+MasterName+" "+host+" "+port+" 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &proc{name: "redis-sentinel", bin: bin, dir: dir,
		args: []string{conf, "--daemonize", "no", "--logfile", "", "--dir", dir,
			"--tls-cert-file", certFile, "--tls-key-file", keyFile, "--tls-ca-cert-file", m.CAFile,
			"--tls-client-cert-file", clientCert, "--tls-client-key-file", clientKey,
			"--tls-auth-clients", "yes", "--tls-replication", "yes"}}
	if err := launch(context.WithoutCancel(t.Context()), p, "--tls-port"); err != nil {
		t.Fatalf("redistest: start redis-sentinel with TLS: %v", err)
	}
	t.Cleanup(p.kill)
	i := slices.Index(p.args, "--tls-port")
	return net.JoinHostPort("127.0.0.1", p.args[i+1])
}

// newPrivateCA makes a CA named name (see [NewCA]) and writes its
// certificate to a temporary file of t's, whose path it returns.
func newPrivateCA(t testing.TB, name string) (*CA, string) {
	t.Helper()
	ca, err := NewCA(name)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := ca.WriteFile(caFile); err != nil {
		t.Fatal(err)
	}
	return ca, caFile
}

// newClusterTLS makes the private CA of a cluster with TLS.
func newClusterTLS(t testing.TB) *ClusterTLS {
	t.Helper()
	ca, caFile := newPrivateCA(t, "private redis cluster CA")
	return &ClusterTLS{CA: ca, CAFile: caFile}
}

// serverConf returns the redis.conf lines of a cluster node with TLS: a
// certificate for 127.0.0.1, clients asked for one of the CA's, and TLS
// on the cluster bus and to its master, where it shows a client
// certificate of the CA's. The TLS port is launch's.
func (c *ClusterTLS) serverConf(t testing.TB) []string {
	t.Helper()
	now := time.Now()
	certFile, keyFile := c.CA.ServerCert(t, []net.IP{net.IPv4(127, 0, 0, 1)}, now.Add(-time.Hour), now.Add(24*time.Hour))
	clientCert, clientKey := c.CA.ClientCert(t, "redis-cluster-node", now.Add(-time.Hour), now.Add(24*time.Hour))
	return []string{
		"tls-cert-file " + certFile, "tls-key-file " + keyFile, "tls-ca-cert-file " + c.CAFile,
		"tls-client-cert-file " + clientCert, "tls-client-key-file " + clientKey,
		"tls-auth-clients yes", "tls-cluster yes", "tls-replication yes",
	}
}

package redisconn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterTLSHint says what to do when a Cluster reached over TLS (opts)
// answers at a seed but names, to its TLS clients (CLUSTER SLOTS), a node
// address that takes TCP connections and not TLS: its plain port, as a
// node with tls-port and tls-cluster no names its own. go-redis then
// fails every command routed there, and says only that the handshake
// failed or timed out, which tlsHint would take for a seed that does not
// speak TLS. It is "" when opts is not a Cluster over TLS, no seed
// answers, or every node named takes TLS.
func clusterTLSHint(ctx context.Context, opts *redis.UniversalOptions) string {
	if opts.TLSConfig == nil || !opts.IsClusterMode {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	for _, seed := range opts.Addrs {
		c := redis.NewClient(&redis.Options{Addr: seed, Username: opts.Username, Password: opts.Password,
			TLSConfig: opts.TLSConfig, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: time.Second})
		slots, err := c.ClusterSlots(ctx).Result()
		_ = c.Close()
		if err != nil {
			continue
		}
		for _, s := range slots {
			for _, n := range s.Nodes {
				if !plainOnly(ctx, n.Addr, opts.TLSConfig) {
					continue
				}
				return fmt.Sprintf("the Cluster's node at %s answers over TLS but names %s to TLS clients (CLUSTER SLOTS), a port that takes no TLS: a plain port, as a node with tls-port names its own unless tls-cluster is on; set tls-cluster yes on every node (then they name their TLS ports; the cluster bus then speaks TLS too)", seed, n.Addr)
			}
		}
		return ""
	}
	return ""
}

// plainOnly reports whether addr takes a TCP connection and fails a TLS
// handshake with conf within a second (or ctx), but not for a reason only
// a TLS server gives: a certificate conf does not trust (another CA, or
// not for the host dialled) is a port that speaks TLS, where tls-cluster
// is not the fix.
func plainOnly(ctx context.Context, addr string, conf *tls.Config) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false // not there at all: another problem
	}
	defer conn.Close()
	c := conf.Clone()
	if c.ServerName == "" {
		c.ServerName, _, _ = net.SplitHostPort(addr)
	}
	err = tls.Client(conn, c).HandshakeContext(ctx)
	var verify *tls.CertificateVerificationError
	return err != nil && !errors.As(err, &verify)
}

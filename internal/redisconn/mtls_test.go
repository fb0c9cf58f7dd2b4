package redisconn_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/redistest"
)

// mtlsEnv loads environment staging from variables alone, over those
// given.
func mtlsEnv(t *testing.T, vars map[string]string) *environment.Environment {
	t.Helper()
	v := map[string]string{"HOME": t.TempDir(), "TIDINGS_ALLOW": "example.org"}
	for k, x := range vars {
		v[k] = x
	}
	e, err := environment.Load(nil, "", "staging", func(k string) string { return v[k] })
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestRedisMutualTLS: a redis-server with tls-auth-clients yes, whose
// certificate a private CA signed (not the one SSL_CERT_FILE trusts), is
// reached with redis.tls_ca_file, redis.tls_cert_file and
// redis.tls_key_file: Dial works and writes. Without the CA setting the
// certificate is refused as unknown, and the advice names
// redis.tls_ca_file; without a client certificate, or with one another
// CA signed, Redis refuses the connection and the advice names
// redis.tls_cert_file, never "check that Redis runs there" (it does).
func TestRedisMutualTLS(t *testing.T) {
	t.Parallel()
	m := redistest.StartMutualTLSServer(t)
	r, addr, ca, caFile := m.Redis, m.TLSAddr, m.CA, m.CAFile
	now := time.Now()
	certFile, keyFile := ca.ClientCert(t, "tidings", now.Add(-time.Hour), now.Add(time.Hour))
	other, err := redistest.NewCA("another CA")
	if err != nil {
		t.Fatal(err)
	}
	otherCert, otherKey := other.ClientCert(t, "tidings", now.Add(-time.Hour), now.Add(time.Hour))
	url := "rediss://" + addr + "/0"

	t.Run("works", func(t *testing.T) {
		rdb, err := redisconn.Dial(t.Context(), mtlsEnv(t, map[string]string{"TIDINGS_REDIS_URL": url,
			"TIDINGS_REDIS_TLS_CA_FILE": caFile, "TIDINGS_REDIS_TLS_CERT_FILE": certFile, "TIDINGS_REDIS_TLS_KEY_FILE": keyFile}))
		if err != nil {
			t.Fatalf("Dial %s with the CA, client certificate and key: %v", url, err)
		}
		defer rdb.Close()
		if err := rdb.Set(t.Context(), "tidings:mtls", "1", 0).Err(); err != nil {
			t.Fatal(err)
		}
		if v, _ := r.Client().Get(t.Context(), "tidings:mtls").Result(); v != "1" {
			t.Errorf("written over mutual TLS, read on the plain port: %q, want 1", v)
		}
	})
	for _, tc := range []struct {
		name string
		vars map[string]string
		want []string
	}{
		{"no CA", map[string]string{"TIDINGS_REDIS_TLS_CERT_FILE": certFile, "TIDINGS_REDIS_TLS_KEY_FILE": keyFile},
			[]string{"unknown authority", "redis.tls_ca_file"}},
		{"no client certificate", map[string]string{"TIDINGS_REDIS_TLS_CA_FILE": caFile},
			[]string{"client certificate", "redis.tls_cert_file", "redis.tls_key_file"}},
		{"client certificate of another CA", map[string]string{"TIDINGS_REDIS_TLS_CA_FILE": caFile, "TIDINGS_REDIS_TLS_CERT_FILE": otherCert, "TIDINGS_REDIS_TLS_KEY_FILE": otherKey},
			[]string{"refused the client certificate", "redis.tls_cert_file", "tls-ca-cert-file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.vars["TIDINGS_REDIS_URL"] = url
			rdb, err := redisconn.Dial(t.Context(), mtlsEnv(t, tc.vars))
			if err == nil {
				rdb.Close()
				t.Fatal("Dial: no error")
			}
			var ue *redisconn.UnreachableError
			if !errors.As(err, &ue) {
				t.Fatalf("Dial: %T %v; want an *UnreachableError (exit 3)", err, err)
			}
			msg := ue.Error() + "; " + ue.Advice()
			for _, w := range append(tc.want, addr, "staging") {
				if !strings.Contains(msg, w) {
					t.Errorf("Dial: %q; want it to say %q", msg, w)
				}
			}
			if strings.Contains(msg, "runs there") {
				t.Errorf("Dial: %q; Redis runs there and answered: the advice is about TLS", msg)
			}
		})
	}
}

// TestSentinelOverMutualTLS: Sentinel over TLS, the Sentinel and the
// master both asking for a client certificate: with redis.tls: true and
// the redis.tls_* settings, Dial reaches the master the Sentinel names
// (the settings apply to the Sentinel's connection and to the master's)
// and writes; without the client certificate it fails, naming
// redis.tls_cert_file.
func TestSentinelOverMutualTLS(t *testing.T) {
	t.Parallel()
	m := redistest.StartMutualTLSServer(t)
	sentinel := redistest.StartTLSSentinel(t, m)
	now := time.Now()
	certFile, keyFile := m.CA.ClientCert(t, "tidings", now.Add(-time.Hour), now.Add(time.Hour))
	vars := map[string]string{"TIDINGS_REDIS_TLS": "true", "TIDINGS_REDIS_SENTINEL_MASTER": redistest.MasterName,
		"TIDINGS_REDIS_SENTINEL_ADDRS": sentinel, "TIDINGS_REDIS_TLS_CA_FILE": m.CAFile,
		"TIDINGS_REDIS_TLS_CERT_FILE": certFile, "TIDINGS_REDIS_TLS_KEY_FILE": keyFile}
	rdb, err := redisconn.Dial(t.Context(), mtlsEnv(t, vars))
	if err != nil {
		t.Fatalf("Dial Sentinel %s over mutual TLS: %v", sentinel, err)
	}
	defer rdb.Close()
	if err := rdb.Set(t.Context(), "tidings:sentinel-mtls", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if v, _ := m.Client().Get(t.Context(), "tidings:sentinel-mtls").Result(); v != "1" {
		t.Errorf("written through the Sentinel over mutual TLS, read on the master's plain port: %q, want 1", v)
	}
	delete(vars, "TIDINGS_REDIS_TLS_CERT_FILE")
	delete(vars, "TIDINGS_REDIS_TLS_KEY_FILE")
	rdb2, err := redisconn.Dial(t.Context(), mtlsEnv(t, vars))
	if err == nil {
		rdb2.Close()
		t.Fatal("Dial without a client certificate: no error")
	}
	var ue *redisconn.UnreachableError
	if !errors.As(err, &ue) || !strings.Contains(ue.Error()+"; "+ue.Advice(), "redis.tls_cert_file") {
		t.Errorf("Dial without a client certificate: %v; want an *UnreachableError naming redis.tls_cert_file", err)
	}
}

package worker

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/environment"
	"github.com/tidings-mail/tidings/internal/journal"
	"github.com/tidings-mail/tidings/internal/redisconn"
	"github.com/tidings-mail/tidings/internal/send"
)

// ForEnvironment returns the Config of a worker of environment e (as
// environment.Load returns it, defaults applied) on rdb: its name, replica
// acknowledgements, the maxmemory-policy it declares, SMTP server and its connections (smtp.connections, the
// cap on the worker's connections to the relay), concurrency (by default
// one chunk in flight per SMTP connection) and delivery journal. The caller adds what
// belongs to its process (Logger, Metrics, ShutdownTimeout, ...).
func ForEnvironment(e *environment.Environment, rdb redis.UniversalClient) Config {
	return Config{
		Redis: rdb, Env: e.Name, ReplicaAcks: e.Redis.MinReplicaAcks, AckTimeout: e.Redis.ReplicaAckTimeout, MaxmemoryPolicy: e.Redis.MaxmemoryPolicy,
		Concurrency: e.Concurrency, SMTPConnections: e.SMTP.Connections, ClaimWindow: e.ClaimWindow, SMTP: SMTPConfig(e.SMTP),
		Journal:        journal.Config{Dir: e.Journal.Dir, Sync: e.Journal.FsyncInterval, Always: e.Journal.FsyncAlways},
		SentinelListed: sentinelListed(e), UnsubscribeSecret: e.UnsubscribeSecret,
	}
}

// sentinelListed is Config.SentinelListed for environment e: nil off
// Sentinel. e's Redis options (TLS files read from disk) are read once
// here, not on each of the worker's passes that ask the Sentinels.
func sentinelListed(e *environment.Environment) func(context.Context) []string {
	opts, err := e.RedisOptions()
	if err != nil || opts.MasterName == "" {
		return nil
	}
	return func(ctx context.Context) []string { return redisconn.SentinelReplicas(ctx, opts) }
}

// SMTPConfig converts an environment's SMTP settings for the sender.
func SMTPConfig(s environment.SMTP) send.Config {
	return send.Config{
		Host: s.Host, Port: s.Port, TLS: string(s.TLS),
		Username: s.Username, Password: s.Password.Reveal(), HeloName: s.HELO, Timeout: s.Timeout,
	}
}

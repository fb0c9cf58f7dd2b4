// Package environment describes the named targets tidings sends in
// (staging, production, ...): their Redis, their SMTP server, their safety
// settings, where this machine keeps state that must survive a Redis loss,
// the web console and the notifications.
//
// An environment comes from a YAML config file, overridden by TIDINGS_*
// variables (Reference lists every key and variable):
//
//	environments:
//	  staging:
//	    production: false            # the name "production" is always production
//	    redis:
//	      url: redis://redis.staging:6379/0   # rediss:// for TLS; no password here
//	      password_file: /run/secrets/redis   # or TIDINGS_REDIS_PASSWORD
//	      tls: false
//	      tls_ca_file: /etc/tidings/redis-ca.pem  # tls_cert_file, tls_key_file: a client certificate; tls_server_name
//	      sentinel: { master: mymaster, addrs: [s1:26379, s2:26379], password_file: ... }
//	      cluster: [n1:6379, n2:6379]          # Redis Cluster seed nodes
//	      min_replica_acks: auto              # replicas that acknowledge a claim (WAIT) before SMTP
//	      replica_ack_timeout: 500ms
//	      maxmemory_policy: noeviction        # only for a Redis that does not say it (INFO memory, CONFIG GET)
//	    smtp:
//	      host: smtp.staging.example
//	      port: 587
//	      tls: starttls                       # none | opportunistic | starttls | tls
//	      username: tidings
//	      password_file: /run/secrets/smtp    # or TIDINGS_SMTP_PASSWORD
//	      connections: 8                      # the most SMTP connections per worker
//	      helo: tidings.staging.example
//	    allow: [example.com, "*.qa.example", qa@altea.example]
//	    list_unsubscribe: https://altea.example/unsubscribe?id={id}
//	    concurrency: 8                        # recipients in flight per worker: at most smtp.connections
//	    state_dir: /var/lib/tidings/staging   # record of started campaigns, delivery journals
//	    journal: { dir: /var/lib/tidings/staging/journal, fsync: 200ms }   # or fsync: always
//	    console:
//	      addr: 127.0.0.1:8080
//	      url: https://tidings.staging.example  # base of links in notifications
//	      viewer_token_file: /run/secrets/viewer
//	      operator_token_file: /run/secrets/operator
//	    notify:
//	      slack_webhook_url_file: /run/secrets/slack
//	      webhook_url_file: /run/secrets/webhook
//	      no_progress_after: 10m
//
// Secrets (passwords, console tokens, webhook URLs) are read only from
// TIDINGS_* variables or from files the config file names; a secret written
// into the config file (as password:, viewer_token:, slack_webhook_url:, or
// a password inside a Redis URL) is an error. A [Secret] never prints: fmt,
// JSON, YAML and slog all show "***".
//
// With no config file, the environment is built from defaults (Redis
// redis://127.0.0.1:6379/0, SMTP 127.0.0.1:1025 without TLS) and the
// variables. Every problem is a *yamlnode.Error naming file:line and the key,
// or the variable, and what to do.
package environment

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tidings-mail/tidings/internal/address"
	"github.com/tidings-mail/tidings/internal/envname"
	"github.com/tidings-mail/tidings/internal/unsubscribe"
	"github.com/tidings-mail/tidings/internal/yamlnode"
)

// Defaults for an environment.
const (
	DefaultRedisURL    = "redis://127.0.0.1:6379/0"
	DefaultSMTPHost    = "127.0.0.1"
	DefaultSMTPPort    = 1025
	DefaultConnections = 8
	// DefaultClaimWindow is how many recipients a worker's connection claims
	// per ledger round trip (see Environment.ClaimWindow).
	DefaultClaimWindow = 16
	// MaxClaimWindow bounds ClaimWindow (a ledger round trip carries at most
	// 256 records and claims: a window's outcomes and the next window).
	MaxClaimWindow           = 128
	DefaultReplicaAckTimeout = 500 * time.Millisecond
	// DefaultSMTPTimeout is SMTP.Timeout's default.
	DefaultSMTPTimeout     = 30 * time.Second
	DefaultJournalFsync    = 200 * time.Millisecond
	DefaultConsoleAddr     = "127.0.0.1:8080"
	DefaultNoProgressAfter = 10 * time.Minute
	ProductionName         = envname.Production
)

// ReplicaAcksAuto is Redis.MinReplicaAcks when it is "auto": see
// Redis.ReplicaAcks.
const ReplicaAcksAuto = -1

// ErrNoName is returned by Load when no environment name is given.
var ErrNoName = errors.New("no environment name given")

// TLSPolicy says how the SMTP connection is secured.
type TLSPolicy string

// SMTP TLS policies.
const (
	// TLSNone never uses TLS (only for loopback test servers).
	TLSNone TLSPolicy = "none"
	// TLSOpportunistic uses STARTTLS when the server offers it.
	TLSOpportunistic TLSPolicy = "opportunistic"
	// TLSStartTLS requires STARTTLS.
	TLSStartTLS TLSPolicy = "starttls"
	// TLSImplicit connects with TLS from the start (SMTPS, usually port 465).
	TLSImplicit TLSPolicy = "tls"
)

// Environment is one named target.
type Environment struct {
	Name string
	// Production is true for the environment named "production" and for any
	// marked production: true (or TIDINGS_PRODUCTION=true).
	Production bool
	Redis      Redis
	SMTP       SMTP
	// Allow restricts recipients to these domains ("example.com"), domain
	// suffixes ("*.example.com") or exact addresses; empty allows everyone.
	Allow []string
	// ListUnsubscribe is the List-Unsubscribe URL of campaigns sent in this
	// environment that set none ({id} and {email} are replaced).
	ListUnsubscribe string
	// ListUnsubscribeAt says where ListUnsubscribe was set, for messages:
	// File and Line of its key in the config file, or Field alone (the
	// variable TIDINGS_LIST_UNSUBSCRIBE, or the key); Msg is empty.
	ListUnsubscribeAt yamlnode.Error
	// SuppressionFiles are the suppression lists (package suppress) of
	// the environment: no campaign staged in it mails an address on them.
	// One that cannot be read stops plan, send and rehearse (fail
	// closed).
	SuppressionFiles []string
	// UnsubscribeSecret is the key of the {token} of List-Unsubscribe
	// URLs (unsubscribe.Token), from unsubscribe_secret_file,
	// TIDINGS_UNSUBSCRIBE_SECRET_FILE or TIDINGS_UNSUBSCRIBE_SECRET.
	UnsubscribeSecret Secret
	// Concurrency is how many chunks one worker processes at once, each on
	// its own SMTP connection (default: SMTP.Connections, and never above
	// it: SMTP.Connections caps a worker's connections to the relay); the
	// worker's --concurrency overrides it, within the same cap.
	Concurrency int
	// ClaimWindow is how many recipients each connection claims per ledger
	// round trip (default DefaultClaimWindow). A larger window costs Redis
	// less CPU per message; a crash of a worker leaves up to one window per
	// connection in doubt.
	ClaimWindow int
	// StateDir is the directory where this machine keeps tidings' record of
	// the campaigns it started and the workers' delivery journals: what must
	// survive a Redis loss. Empty when neither the config, TIDINGS_STATE_DIR,
	// XDG_STATE_HOME nor HOME names one (see Warnings).
	StateDir string
	Journal  Journal
	Console  Console
	Notify   Notify
	// Source says where the settings came from, for messages.
	Source string
}

// Redis is how to reach Redis.
type Redis struct {
	// URL is redis://[user@]host:port/db or rediss:// (TLS); it never holds
	// a password (a password given in TIDINGS_REDIS_URL is moved to Password).
	URL      string
	Password Secret
	TLS      bool
	// TLSFiles are the CA, client certificate and key, and server name of
	// TLS to Redis (redis.tls_*).
	TLSFiles RedisTLS
	Sentinel Sentinel
	// Cluster lists Redis Cluster seed nodes (host:port); it replaces URL's
	// address.
	Cluster []string
	// MinReplicaAcks is the number of replicas that must acknowledge a
	// ledger claim (Redis WAIT) before the message goes to SMTP, or
	// ReplicaAcksAuto: decided from the deployment by redisconn.ReplicaAcks.
	MinReplicaAcks int
	// ReplicaAckTimeout bounds the wait for those acknowledgements.
	ReplicaAckTimeout time.Duration
	// MaxmemoryPolicy declares Redis's maxmemory-policy for a Redis that
	// does not say it (INFO memory without it, CONFIG refused or renamed:
	// a managed Redis, a proxy): "" (none declared, the default) or
	// noeviction. A worker that cannot read the policy holds its sends
	// unless it is declared; one it reads is always what counts.
	MaxmemoryPolicy string
}

// AutoReplicaAcks reports whether MinReplicaAcks is "auto".
func (r Redis) AutoReplicaAcks() bool { return r.MinReplicaAcks == ReplicaAcksAuto }

// Sentinel names a Sentinel-managed Redis.
type Sentinel struct {
	Master   string
	Addrs    []string
	Password Secret
}

// SMTP is how to reach the SMTP server.
type SMTP struct {
	Host        string
	Port        int
	TLS         TLSPolicy
	Username    string
	Password    Secret
	Connections int
	HELO        string
	// Timeout bounds the connection, the greeting and each SMTP command
	// (not the wait for the reply after the data: RFC 5321's 10
	// minutes); default DefaultSMTPTimeout. A relay that accepts
	// connections and never answers fails each attempt after it.
	Timeout time.Duration
}

// Addr returns host:port.
func (s SMTP) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Journal is where and how often workers record deliveries on disk.
type Journal struct {
	// Dir holds the journals (default: StateDir/journal).
	Dir string
	// FsyncAlways flushes the journal to disk after every write (a claim
	// window before it is sent, the window's outcomes after);
	// otherwise it is flushed every FsyncInterval.
	FsyncAlways   bool
	FsyncInterval time.Duration
}

// Fsync returns the policy as written in the config: "always" or a duration.
func (j Journal) Fsync() string {
	if j.FsyncAlways {
		return "always"
	}
	return j.FsyncInterval.String()
}

// Console is the web console for QA and on-call.
type Console struct {
	// Addr is the listen address (default 127.0.0.1:8080).
	Addr string
	// URL is the public base URL used in notification links (default
	// http://Addr).
	URL string
	// ViewerToken and OperatorToken admit the two roles.
	ViewerToken   Secret
	OperatorToken Secret
}

// Notify says where notifications (auto-pause, awaiting approval, no
// progress, done, cancelled) are posted.
type Notify struct {
	// SlackWebhookURL receives Slack-compatible messages; WebhookURL generic
	// JSON. Both are secrets: whoever has one can post.
	SlackWebhookURL Secret
	WebhookURL      Secret
	// NoProgressAfter is how long a running campaign may send nothing
	// before a "no progress" notification.
	NoProgressAfter time.Duration
}

// Load returns the environment called name from the config file (may be
// empty: then the environment is built from defaults and variables), with
// the TIDINGS_* variables read through getenv applied on top. fileName names
// the config file in messages; files the config names (secrets, state) are
// relative to it and secrets are read here. HOME and XDG_STATE_HOME, also
// read through getenv, place the default state directory.
//
// flags, the command line's options that set a setting, apply over both
// (see Flag).
//
// An empty name is ErrNoName; every other problem is a *yamlnode.Error
// (several are joined with errors.Join).
func Load(configFile []byte, fileName, name string, getenv func(string) string, flags ...Flag) (*Environment, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, ErrNoName
	}
	var named *yamlnode.Document // the config file, to name the line of a wrong name
	if len(bytes.TrimSpace(configFile)) > 0 {
		named, _, _ = parseFile(configFile, fileName)
	}
	// "Production" means production to whoever reads it, and would not be
	// (no typed confirmation, no production checks): refused, as in the
	// config file.
	if strings.EqualFold(name, ProductionName) && name != ProductionName {
		// The config file's key when it has one by that name; else the
		// flag is what was mistyped.
		e := &yamlnode.Error{Field: "--env " + name, Msg: fmt.Sprintf("differs from %[1]s only in case, and only the environment named %[1]s is production: write --env %[1]s, or give the environment a name of its own", ProductionName)}
		if named != nil {
			for _, k := range named.Keys("environments") {
				if k.Name == name {
					e.File, e.Field, e.Line = fileName, "environments."+name, k.Line
					e.Msg = fmt.Sprintf("differs from %[1]s only in case, and only the environment named %[1]s is production: call it %[1]s (in the config file and in --env), or give it a name of its own", ProductionName)
				}
			}
		}
		return nil, e
	}
	if err := checkName(named, fileName, name); err != nil {
		return nil, err
	}
	b := &builder{name: name, getenv: getenv, baseDir: ".", fromVar: map[string]string{}}
	raw := &fileEnv{}
	source := "defaults and TIDINGS_* variables"
	if len(bytes.TrimSpace(configFile)) > 0 {
		doc, f, err := parseFile(configFile, fileName)
		if err != nil {
			return nil, err
		}
		r, ok := f.Environments[name]
		if !ok {
			return nil, &yamlnode.Error{File: fileName, Line: doc.Line("environments"), Field: "environments",
				Msg: fmt.Sprintf("no environment %q (it defines %s): pick one of those or add environments.%s", name, strings.Join(sortedNames(f), ", "), name)}
		}
		if err := checkTwins(doc, fileName, name); err != nil {
			return nil, err
		}
		if r != nil {
			raw = r
		}
		b.doc, b.file, b.baseDir = doc, fileName, filepath.Dir(fileName)
		source = fileName + " and TIDINGS_* variables"
		// A secret written anywhere in the file is refused, whichever
		// environment is asked for (as an unknown key is): the file is
		// what leaks it.
		var errs []error
		for _, n := range sortedNames(f) {
			if r := f.Environments[n]; r != nil {
				errs = append(errs, (&builder{name: n, doc: doc, file: fileName}).literalSecrets(r))
			}
		}
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
	}
	e := b.fromFile(raw)
	b.variables(e)
	b.flags(e, flags)
	b.resolve(e)
	*e = e.WithDefaults()
	e.validate(b.report)
	if err := errors.Join(b.errs...); err != nil {
		return nil, err
	}
	e.Source = source
	e.ListUnsubscribeAt = b.at("list_unsubscribe")
	return e, nil
}

// Names returns the environments the config file defines, sorted (for
// shell completion and messages).
func Names(configFile []byte, fileName string) ([]string, error) {
	if len(bytes.TrimSpace(configFile)) == 0 {
		return nil, nil
	}
	_, f, err := parseFile(configFile, fileName)
	if err != nil {
		return nil, err
	}
	return sortedNames(f), nil
}

func sortedNames(f *configFile) []string {
	names := make([]string, 0, len(f.Environments))
	for n := range f.Environments {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// WithDefaults returns a copy of e in which every setting left at its zero
// value holds its default: Redis URL and replica acknowledgement timeout;
// the SMTP host (with port 1025), TLS (none on loopback, else starttls), the
// port that goes with the TLS policy and the connections; concurrency (one
// per SMTP connection); the journal directory (StateDir/journal) and
// interval; the console address and URL; the no-progress delay.
// MinReplicaAcks has no zero default (0 is a choice): Load starts it at
// ReplicaAcksAuto.
func (e Environment) WithDefaults() Environment {
	if e.Redis.URL == "" {
		e.Redis.URL = DefaultRedisURL
	}
	if e.Redis.ReplicaAckTimeout == 0 {
		e.Redis.ReplicaAckTimeout = DefaultReplicaAckTimeout
	}
	if e.SMTP.Host == "" {
		e.SMTP.Host = DefaultSMTPHost
		if e.SMTP.Port == 0 {
			e.SMTP.Port = DefaultSMTPPort
		}
	}
	switch e.SMTP.TLS {
	case "":
		e.SMTP.TLS = TLSStartTLS
		if isLoopback(e.SMTP.Host) {
			e.SMTP.TLS = TLSNone
		}
	case "true":
		e.SMTP.TLS = TLSStartTLS
	case "false":
		e.SMTP.TLS = TLSNone
	}
	if e.SMTP.Port == 0 {
		switch e.SMTP.TLS {
		case TLSImplicit:
			e.SMTP.Port = 465
		case TLSNone:
			e.SMTP.Port = 25
		default:
			e.SMTP.Port = 587
		}
	}
	if e.SMTP.Timeout == 0 {
		e.SMTP.Timeout = DefaultSMTPTimeout
	}
	if e.SMTP.Connections == 0 {
		e.SMTP.Connections = DefaultConnections
	}
	if e.Concurrency == 0 && e.SMTP.Connections > 0 {
		e.Concurrency = e.SMTP.Connections
	}
	if e.ClaimWindow == 0 {
		e.ClaimWindow = DefaultClaimWindow
	}
	if e.Journal.Dir == "" && e.StateDir != "" {
		e.Journal.Dir = filepath.Join(e.StateDir, "journal")
	}
	if !e.Journal.FsyncAlways && e.Journal.FsyncInterval == 0 {
		e.Journal.FsyncInterval = DefaultJournalFsync
	}
	if e.Console.Addr == "" {
		e.Console.Addr = DefaultConsoleAddr
	}
	if e.Console.URL == "" {
		host, port, err := net.SplitHostPort(e.Console.Addr)
		if err == nil {
			if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
				host = "localhost"
			}
			e.Console.URL = "http://" + net.JoinHostPort(host, port)
		}
	}
	if e.Notify.NoProgressAfter == 0 {
		e.Notify.NoProgressAfter = DefaultNoProgressAfter
	}
	return e
}

// validate checks every setting; report locates a problem by the key it is
// about (e.g. smtp.port), which Load turns into file:line or a variable.
func (e *Environment) validate(report func(key, format string, args ...any)) {
	if msg := redisURLProblem(e.Redis.URL, e.Redis.Sentinel.Master == "" && len(e.Redis.Cluster) == 0); msg != "" {
		report("redis.url", "%s", msg)
	}
	if (e.Redis.Sentinel.Master == "") != (len(e.Redis.Sentinel.Addrs) == 0) {
		key := "redis.sentinel.master"
		if e.Redis.Sentinel.Master == "" {
			key = "redis.sentinel.addrs"
		}
		report(key, "Redis Sentinel needs both a master name and addresses: set redis.sentinel.master and redis.sentinel.addrs")
	}
	if e.Redis.Sentinel.Master != "" && len(e.Redis.Cluster) > 0 {
		report("redis.cluster", "Redis cannot be both Sentinel and Cluster: keep one of redis.sentinel and redis.cluster")
	}
	for _, l := range []struct {
		key, password string
		addrs         []string
	}{{"redis.cluster", "redis.password_file", e.Redis.Cluster}, {"redis.sentinel.addrs", "redis.sentinel.password_file", e.Redis.Sentinel.Addrs}} {
		for i, a := range l.addrs {
			if msg := addrProblem(a, l.password); msg != "" {
				report(l.key, "entry %d %s", i+1, msg)
			}
		}
	}
	if t := e.Redis.TLSFiles; t.IsSet() && !e.Redis.TLS {
		key := "redis.tls_ca_file"
		for _, k := range []struct{ key, v string }{{"redis.tls_cert_file", t.CertFile}, {"redis.tls_key_file", t.KeyFile}, {"redis.tls_server_name", t.ServerName}} {
			if t.CAFile == "" && k.v != "" {
				key = k.key
			}
		}
		report(key, "applies to TLS only, and Redis is reached without it: write rediss:// in redis.url or set redis.tls: true, or remove the redis.tls_* settings")
	} else {
		_, probs := e.Redis.TLSFiles.config()
		for _, p := range probs {
			report(p.key, "%s", p.msg)
		}
	}
	if e.Redis.MinReplicaAcks < ReplicaAcksAuto {
		report("redis.min_replica_acks", "%d: use auto or a number of replicas, 0 or more", e.Redis.MinReplicaAcks)
	}
	if p := e.Redis.MaxmemoryPolicy; p != "" && p != "noeviction" {
		report("redis.maxmemory_policy", "%q: declare noeviction (set it on the Redis first), or remove the key; tidings sends nothing on a Redis that may evict keys", p)
	}
	if e.Redis.ReplicaAckTimeout < 0 {
		report("redis.replica_ack_timeout", "%s is negative: use e.g. 500ms", e.Redis.ReplicaAckTimeout)
	}
	switch e.SMTP.TLS {
	case TLSNone, TLSOpportunistic, TLSStartTLS, TLSImplicit:
	default:
		report("smtp.tls", "%q is unknown: use none, opportunistic, starttls or tls", string(e.SMTP.TLS))
	}
	if msg := hostProblem(e.SMTP.Host); msg != "" {
		report("smtp.host", "%q %s", e.SMTP.Host, msg)
	}
	if e.SMTP.HELO != "" && !validHELO(e.SMTP.HELO) {
		report("smtp.helo", "%q is not one domain name or address literal, which EHLO needs: write this machine's name, e.g. mail1.example.com, or an address literal such as [192.0.2.1]", e.SMTP.HELO)
	}
	if e.SMTP.Port < 1 || e.SMTP.Port > 65535 {
		report("smtp.port", "%d is out of range: use 1-65535", e.SMTP.Port)
	}
	if e.SMTP.Connections < 1 {
		report("smtp.connections", "%d: use 1 or more", e.SMTP.Connections)
	}
	if e.SMTP.Timeout < time.Second {
		report("smtp.timeout", "%s is under a second: use e.g. 10s or 30s (the default); it bounds the connection, the greeting and each command", e.SMTP.Timeout)
	}
	// 0 (the default) follows smtp.connections, whose own error says it.
	if e.Concurrency < 0 || (e.Concurrency == 0 && e.SMTP.Connections > 0) {
		report("concurrency", "%d: use 1 or more", e.Concurrency)
	}
	// Each recipient in flight holds an SMTP connection of its own, and
	// smtp.connections is the most a worker opens to the relay (set to the
	// relay's limit per client): more in flight would have to open more.
	if e.SMTP.Connections > 0 && e.Concurrency > e.SMTP.Connections {
		report("concurrency", "%d is above smtp.connections (%d), the most SMTP connections a worker opens, and each recipient processed at once holds one: lower concurrency to %d or less (or remove it: it follows smtp.connections), or raise smtp.connections if the relay accepts %d connections from one client",
			e.Concurrency, e.SMTP.Connections, e.SMTP.Connections, e.Concurrency)
	}
	if e.ClaimWindow < 1 || e.ClaimWindow > MaxClaimWindow {
		report("claim_window", "%d is out of range: use 1-%d (0 or unset: the default, %d)", e.ClaimWindow, MaxClaimWindow, DefaultClaimWindow)
	}
	if e.ListUnsubscribe != "" {
		// As a campaign's own: the campaigns that set none send this one.
		if err := unsubscribe.Check(e.ListUnsubscribe); err != nil {
			report("list_unsubscribe", "%s", err.Error())
		}
	}
	if n := len(e.UnsubscribeSecret.Reveal()); n > 0 && n < unsubscribe.MinSecretBytes {
		report("unsubscribe_secret_file", "the unsubscribe secret is %d bytes, too short to keep tokens from being guessed: use at least %d random bytes, e.g. the output of openssl rand -base64 32", n, unsubscribe.MinSecretBytes)
	}
	for _, a := range e.Allow {
		if _, err := allowKey(a); err != nil {
			report("allow", "entry %q is neither a domain, a *.suffix nor an address: fix it", a)
		}
	}
	if e.Journal.FsyncInterval < 0 {
		report("journal.fsync", "%s is negative: use always or a duration such as 200ms", e.Journal.FsyncInterval)
	}
	if _, port, err := net.SplitHostPort(e.Console.Addr); err != nil {
		report("console.addr", "%q is not host:port: write e.g. 127.0.0.1:8080", e.Console.Addr)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		report("console.addr", "%q has no valid port: write e.g. 127.0.0.1:8080", e.Console.Addr)
	}
	// No URL: none was given and the address, already reported, gave none.
	if u, err := url.Parse(e.Console.URL); e.Console.URL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		report("console.url", "%q is not an http(s) URL: write the console's public address, e.g. https://tidings.example.com", e.Console.URL)
	}
	if e.Console.ViewerToken.IsSet() && e.Console.ViewerToken == e.Console.OperatorToken {
		report("console.operator_token_file", "the operator token is the viewer token: give operators a token of their own")
	}
	for _, w := range []struct {
		key    string
		secret Secret
		https  bool
	}{{"notify.slack_webhook_url_file", e.Notify.SlackWebhookURL, true}, {"notify.webhook_url_file", e.Notify.WebhookURL, false}} {
		if !w.secret.IsSet() {
			continue
		}
		u, err := url.Parse(w.secret.Reveal())
		if err != nil || u.Host == "" || (u.Scheme != "https" && (w.https || u.Scheme != "http")) {
			want := "an http(s) URL"
			if w.https {
				want = "an https:// URL"
			}
			report(w.key, "the webhook is not %s (its value is secret and not shown): fix it", want)
		}
	}
	if e.Notify.NoProgressAfter < 0 {
		report("notify.no_progress_after", "%s is negative: use e.g. 10m", e.Notify.NoProgressAfter)
	}
}

// hostProblem says what is wrong with an SMTP host ("" when nothing is),
// after the host quoted: a host is a name or an address, and its port
// belongs in smtp.port (a host with a colon is an IPv6 address, or wrong).
func hostProblem(h string) string {
	switch {
	case strings.Contains(h, "://"):
		return "is a URL: write the host alone, e.g. smtp.example.com (the port in smtp.port, TLS in smtp.tls)"
	case strings.ContainsAny(h, " \t/@"):
		return "is not a host name: write e.g. smtp.example.com or 192.0.2.1"
	case !strings.Contains(h, ":"), net.ParseIP(h) != nil: // a name, an IPv4 or an IPv6 address
		return ""
	}
	if host, port, err := net.SplitHostPort(h); err == nil && host != "" && port != "" {
		return fmt.Sprintf("holds a port: write the host alone (%s) and the port (%s) in smtp.port (or TIDINGS_SMTP_PORT)", host, port)
	}
	if ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")); ip != nil {
		return fmt.Sprintf("is an IPv6 address in brackets: write it without them (%s), and the port in smtp.port", ip)
	}
	return "is not a host name or address: write e.g. smtp.example.com, 192.0.2.1 or 2001:db8::1, and the port in smtp.port"
}

// addrProblem says what is wrong with a Redis node or Sentinel address
// ("" when nothing is), after "entry N": it is host:port, nothing else. An
// entry with a user or password is not quoted (it holds a secret);
// password names the key that gives the password instead.
func addrProblem(a, password string) string {
	switch {
	case strings.Contains(a, "@"):
		return fmt.Sprintf("holds a user or password (not shown): write host:port alone, e.g. 10.0.0.1:6379, and give the password with %s", password)
	case strings.Contains(a, "://"):
		return fmt.Sprintf("%q is a URL: write host:port alone, e.g. 10.0.0.1:6379 (TLS is redis.tls, the password %s)", a, password)
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil || host == "" || strings.ContainsAny(host, " \t/") {
		return fmt.Sprintf("%q is not host:port: write e.g. 10.0.0.1:6379 (an IPv6 address in brackets: [2001:db8::1]:6379)", a)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Sprintf("%q has no valid port: write host:port with a port 1-65535, e.g. 10.0.0.1:6379", a)
	}
	return ""
}

// validHELO reports whether s can follow EHLO (RFC 5321 4.1.1.1): one
// domain name in ASCII (letters, digits and '-' in labels of at most 63)
// or an address literal: [192.0.2.1] or [IPv6:2001:db8::1].
func validHELO(s string) bool {
	if lit, ok := strings.CutPrefix(s, "["); ok {
		lit, ok = strings.CutSuffix(lit, "]")
		if v6, isV6 := strings.CutPrefix(lit, "IPv6:"); isV6 {
			ip := net.ParseIP(v6)
			return ok && ip != nil && ip.To4() == nil
		}
		ip := net.ParseIP(lit)
		return ok && ip != nil && ip.To4() != nil && !strings.Contains(lit, ":")
	}
	if len(s) > 255 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Allowed reports whether email may receive mail in this environment: true
// when the allowlist is empty, else when the address, its domain or a
// *.suffix of its domain is listed. They are compared as the mailboxes
// they are, whatever the spelling: the local part as address.Key has it
// (case, NFC), the domain in its A-label form (xn--), exactly, so that no
// two domains IDNA tells apart (σ and ς) match. For many recipients, take
// Allowlist once.
func (e *Environment) Allowed(email string) bool {
	if e == nil || len(e.Allow) == 0 {
		return true
	}
	addr, err := address.Parse(email)
	return err == nil && e.Allowlist()(addr)
}

// Allowlist returns Allowed of an address already parsed, with the entries
// brought into the form it compares once, not on every call.
func (e *Environment) Allowlist() func(address.Address) bool {
	if e == nil || len(e.Allow) == 0 {
		return func(address.Address) bool { return true }
	}
	var keys []string
	for _, a := range e.Allow {
		if k, err := allowKey(a); err == nil { // Load refuses an entry in error
			keys = append(keys, k)
		}
	}
	return func(addr address.Address) bool {
		if addr.IsZero() {
			return false
		}
		key, domain := mailboxKey(addr), addr.ASCIIDomain()
		for _, a := range keys {
			switch {
			case strings.Contains(a, "@"):
				if a == key {
					return true
				}
			case strings.HasPrefix(a, "*."):
				if strings.HasSuffix(domain, a[1:]) { // ".example.com": below it only
					return true
				}
			case a == domain:
				return true
			}
		}
		return false
	}
}

// mailboxKey is addr as the allowlist compares it: the local part as
// address.Key has it, the domain in A-labels.
func mailboxKey(addr address.Address) string {
	k := addr.Key()
	return k[:strings.LastIndexByte(k, '@')+1] + addr.ASCIIDomain()
}

// allowKey is an allowlist entry in the form Allowed compares: an address
// as mailboxKey has it, a domain or *.suffix in A-labels, lower case. An
// entry that is neither is returned as it is, with the reason. Case is
// folded by address.Parse and Key as for recipients, never before: Go's
// lower case of some letters is not IDNA's (İnternet.test would become
// internet.test, another domain).
func allowKey(a string) (string, error) {
	a = strings.TrimSpace(a)
	if strings.Contains(a, "@") {
		addr, err := address.Parse(a)
		if err != nil {
			return a, err
		}
		return mailboxKey(addr), nil
	}
	domain, star := strings.CutPrefix(a, "*.")
	if !star && strings.HasPrefix(a, "*") {
		return a, errors.New("a wildcard is written *.suffix")
	}
	addr, err := address.Parse("x@x." + domain) // "x.": a suffix may be one label (*.test)
	switch {
	case err != nil:
		return a, err
	case star:
		return "*." + strings.TrimPrefix(addr.ASCIIDomain(), "x."), nil
	}
	return strings.TrimPrefix(addr.ASCIIDomain(), "x."), nil
}

// RefusalCode is the reason code for recipients outside the allowlist:
// "not-allowed-in-<name>".
func (e *Environment) RefusalCode() string { return "not-allowed-in-" + e.Name }

// Warnings returns advice the CLI prints before acting in this environment.
func (e *Environment) Warnings() []string {
	var w []string
	if !e.Production && len(e.Allow) == 0 {
		w = append(w, fmt.Sprintf("environment %s is not production and has no allowlist: every recipient can be mailed; set allow: (or TIDINGS_ALLOW) to restrict it", e.Name))
	}
	if e.Production && e.SMTP.TLS == TLSNone && !isLoopback(e.SMTP.Host) {
		w = append(w, fmt.Sprintf("production environment %s sends to %s without TLS: set smtp.tls to starttls or tls", e.Name, e.SMTP.Addr()))
	}
	if e.StateDir == "" {
		w = append(w, fmt.Sprintf("environment %s has no state directory (neither HOME nor XDG_STATE_HOME is set): set state_dir (or TIDINGS_STATE_DIR)", e.Name))
	}
	return w
}

// RedisOptions returns go-redis options for this environment: a single
// node, a Sentinel master or a Cluster, with password and TLS applied.
func (e *Environment) RedisOptions() (*redis.UniversalOptions, error) {
	o, err := redis.ParseURL(e.Redis.URL)
	if err != nil {
		return nil, fmt.Errorf("parse Redis URL of environment %s: %w", e.Name, err)
	}
	u := &redis.UniversalOptions{
		Addrs:     []string{o.Addr},
		DB:        o.DB,
		Username:  o.Username,
		Password:  o.Password,
		TLSConfig: o.TLSConfig,
	}
	if p := e.Redis.Password.Reveal(); p != "" {
		u.Password = p
	}
	if e.Redis.TLS && u.TLSConfig == nil {
		host, _, _ := net.SplitHostPort(o.Addr)
		u.TLSConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	if u.TLSConfig != nil && e.Redis.TLSFiles.IsSet() {
		c, err := e.Redis.TLSFiles.Config()
		if err != nil {
			return nil, fmt.Errorf("TLS to Redis of environment %s: %w", e.Name, err)
		}
		if c.ServerName == "" {
			c.ServerName = u.TLSConfig.ServerName
		}
		u.TLSConfig = c
	}
	// The host dialled, on Sentinel and Cluster (several), unless
	// redis.tls_server_name names one.
	keepName := e.Redis.TLSFiles.ServerName != ""
	switch {
	case e.Redis.Sentinel.Master != "":
		u.MasterName = e.Redis.Sentinel.Master
		u.Addrs = append([]string(nil), e.Redis.Sentinel.Addrs...)
		u.SentinelPassword = e.Redis.Sentinel.Password.Reveal()
		if u.TLSConfig != nil && !keepName {
			u.TLSConfig.ServerName = ""
		}
	case len(e.Redis.Cluster) > 0:
		u.Addrs = append([]string(nil), e.Redis.Cluster...)
		u.IsClusterMode = true
		u.DB = 0
		if u.TLSConfig != nil && !keepName {
			u.TLSConfig.ServerName = ""
		}
	}
	return u, nil
}

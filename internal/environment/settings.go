package environment

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// setting is one config key and/or TIDINGS_* variable. Reference documents
// them; Load applies the variables through set.
type setting struct {
	key      string // under environments.<name>; "" for a variable only
	variable string // "" for a key only
	help     string
	set      func(e *Environment, v string) error // applies the variable
	secret   bool                                 // the variable's value is taken as it is
}

// settings in the order Reference lists them. A key's help is that of its
// first row.
var settings = []setting{
	{key: "production", variable: "TIDINGS_PRODUCTION", help: "true marks the environment as production (cannot unmark one)", set: func(e *Environment, v string) error {
		p, err := strconv.ParseBool(v)
		switch {
		case err != nil:
			return fmt.Errorf("%q is not a boolean: use true or false", v)
		case !p && e.Production:
			return fmt.Errorf("false cannot unmark production environment %s: unset it", e.Name)
		}
		e.Production = e.Production || p
		return nil
	}},
	{key: "redis.url", variable: "TIDINGS_REDIS_URL", help: "redis://[user@]host:port/db, rediss:// for TLS (a password in the variable is taken as the password, over redis.password_file; one differing from TIDINGS_REDIS_PASSWORD's is refused)", set: text(func(e *Environment) *string { return &e.Redis.URL })},
	{key: "redis.password_file", variable: "TIDINGS_REDIS_PASSWORD_FILE", help: "file holding the Redis password", set: secretFile(func(e *Environment) *Secret { return &e.Redis.Password })},
	{key: "redis.password_file", variable: "TIDINGS_REDIS_PASSWORD", help: "Redis password (secret)", secret: true, set: secret(func(e *Environment) *Secret { return &e.Redis.Password })},
	{key: "redis.tls", variable: "TIDINGS_REDIS_TLS", help: "true to use TLS to Redis", set: boolean(func(e *Environment) *bool { return &e.Redis.TLS })},
	{key: "redis.tls_ca_file", variable: "TIDINGS_REDIS_TLS_CA_FILE", help: "PEM file of the CA that signed Redis's certificates, trusted instead of the machine's CAs (with TLS: rediss:// or redis.tls)", set: text(func(e *Environment) *string { return &e.Redis.TLSFiles.CAFile })},
	{key: "redis.tls_cert_file", variable: "TIDINGS_REDIS_TLS_CERT_FILE", help: "PEM client certificate shown to a Redis that asks for one (tls-auth-clients), with redis.tls_key_file", set: text(func(e *Environment) *string { return &e.Redis.TLSFiles.CertFile })},
	{key: "redis.tls_key_file", variable: "TIDINGS_REDIS_TLS_KEY_FILE", help: "PEM key of redis.tls_cert_file", set: text(func(e *Environment) *string { return &e.Redis.TLSFiles.KeyFile })},
	{key: "redis.tls_server_name", variable: "TIDINGS_REDIS_TLS_SERVER_NAME", help: "the name Redis's certificates are checked for (default: the host dialled)", set: text(func(e *Environment) *string { return &e.Redis.TLSFiles.ServerName })},
	{key: "redis.sentinel.master", variable: "TIDINGS_REDIS_SENTINEL_MASTER", help: "Sentinel master name", set: text(func(e *Environment) *string { return &e.Redis.Sentinel.Master })},
	{key: "redis.sentinel.addrs", variable: "TIDINGS_REDIS_SENTINEL_ADDRS", help: "Sentinel host:port list (comma-separated in the variable); no URL, no password: that is redis.sentinel.password_file", set: list(func(e *Environment) *[]string { return &e.Redis.Sentinel.Addrs })},
	{key: "redis.sentinel.password_file", help: "file holding the Sentinel password"},
	{key: "redis.sentinel.password_file", variable: "TIDINGS_REDIS_SENTINEL_PASSWORD", help: "Sentinel password (secret)", secret: true, set: secret(func(e *Environment) *Secret { return &e.Redis.Sentinel.Password })},
	{key: "redis.cluster", variable: "TIDINGS_REDIS_CLUSTER_ADDRS", help: "Redis Cluster seed nodes, host:port (comma-separated in the variable); no URL, no password: that is redis.password_file", set: list(func(e *Environment) *[]string { return &e.Redis.Cluster })},
	{key: "redis.min_replica_acks", variable: "TIDINGS_REDIS_MIN_REPLICA_ACKS", help: "replicas that must acknowledge a ledger claim (Redis WAIT) before the message goes to SMTP, or auto (default): with Sentinel every replica of the master (a replica down holds the sending until it is back); with Cluster every replica of the master serving the campaign's slot, judged per master by the same rule as Sentinel; else decided at worker start from the master's connected replicas", set: setReplicaAcks},
	{key: "redis.replica_ack_timeout", variable: "TIDINGS_REDIS_REPLICA_ACK_TIMEOUT", help: "how long to wait for those acknowledgements (default 500ms)", set: duration(func(e *Environment) *time.Duration { return &e.Redis.ReplicaAckTimeout })},
	{key: "redis.maxmemory_policy", variable: "TIDINGS_REDIS_MAXMEMORY_POLICY", help: "noeviction declares Redis's maxmemory-policy where Redis does not say it (INFO memory without maxmemory_policy, and CONFIG GET refused or renamed: some managed Redis, a proxy); without it a worker that cannot read the policy sends nothing, and one it reads always counts over it", set: text(func(e *Environment) *string { return &e.Redis.MaxmemoryPolicy })},
	{key: "smtp.host", variable: "TIDINGS_SMTP_HOST", help: "SMTP host name or address, without a port (default: 127.0.0.1 port 1025, a local test server, when the host is not set; a host set takes the port of smtp.port)", set: text(func(e *Environment) *string { return &e.SMTP.Host })},
	{key: "smtp.port", variable: "TIDINGS_SMTP_PORT", help: "SMTP port (default 465 with tls, 25 with none, else 587)", set: integer(587, func(e *Environment) *int { return &e.SMTP.Port })},
	{key: "smtp.tls", variable: "TIDINGS_SMTP_TLS", help: "none, opportunistic, starttls or tls (default none on loopback, else starttls)", set: func(e *Environment, v string) error {
		e.SMTP.TLS = TLSPolicy(strings.ToLower(v))
		return nil
	}},
	{key: "smtp.username", variable: "TIDINGS_SMTP_USERNAME", help: "SMTP user name", set: text(func(e *Environment) *string { return &e.SMTP.Username })},
	{key: "smtp.password_file", variable: "TIDINGS_SMTP_PASSWORD_FILE", help: "file holding the SMTP password", set: secretFile(func(e *Environment) *Secret { return &e.SMTP.Password })},
	{key: "smtp.password_file", variable: "TIDINGS_SMTP_PASSWORD", help: "SMTP password (secret)", secret: true, set: secret(func(e *Environment) *Secret { return &e.SMTP.Password })},
	{key: "smtp.connections", variable: "TIDINGS_SMTP_CONNECTIONS", help: "the most SMTP connections a worker opens to the relay (default 8): keep it at or below the relay's limit per client", set: integer(8, func(e *Environment) *int { return &e.SMTP.Connections })},
	{key: "smtp.timeout", variable: "TIDINGS_SMTP_TIMEOUT", help: "how long a worker waits for the relay to connect, greet and answer each command (default 30s; the reply after a message's data is awaited 10 minutes whatever it is): a relay that never answers fails each attempt after it", set: duration(func(e *Environment) *time.Duration { return &e.SMTP.Timeout })},
	{key: "smtp.helo", variable: "TIDINGS_SMTP_HELO", help: "name sent in EHLO: one domain name, or an address literal such as [192.0.2.1]", set: text(func(e *Environment) *string { return &e.SMTP.HELO })},
	{key: "allow", variable: "TIDINGS_ALLOW", help: "allowlist of domains, *.suffixes and addresses (comma-separated in the variable); others are refused", set: list(func(e *Environment) *[]string { return &e.Allow })},
	{key: "suppression_files", variable: "TIDINGS_SUPPRESSION_FILES", help: "suppression lists: files of addresses never to mail (one a line, or a CSV with an email column; comma-separated in the variable, which replaces the file's list); plan, send and rehearse skip them, and stop when one cannot be read", set: list(func(e *Environment) *[]string { return &e.SuppressionFiles })},
	{key: "list_unsubscribe", variable: "TIDINGS_LIST_UNSUBSCRIBE", help: "List-Unsubscribe URL for campaigns that set none (http(s) or mailto; placeholders {id}, {email} and {token} only)", set: text(func(e *Environment) *string { return &e.ListUnsubscribe })},
	{key: "unsubscribe_secret_file", variable: "TIDINGS_UNSUBSCRIBE_SECRET_FILE", help: "file holding the key of list_unsubscribe's {token} (at least 16 bytes; every sender and worker of the environment needs it)", set: secretFile(func(e *Environment) *Secret { return &e.UnsubscribeSecret })},
	{key: "unsubscribe_secret_file", variable: "TIDINGS_UNSUBSCRIBE_SECRET", help: "key of list_unsubscribe's {token} (secret)", secret: true, set: secret(func(e *Environment) *Secret { return &e.UnsubscribeSecret })},
	{key: "concurrency", variable: "TIDINGS_CONCURRENCY", help: "recipients processed at once per worker, each on its own SMTP connection: at most smtp.connections (default: smtp.connections)", set: integer(8, func(e *Environment) *int { return &e.Concurrency })},
	{key: "claim_window", variable: "TIDINGS_CLAIM_WINDOW", help: "recipients each connection claims per ledger round trip, 1-128 (default 16, also for 0): larger costs Redis less per message; a worker's crash leaves up to one window per connection in doubt", set: integer(16, func(e *Environment) *int { return &e.ClaimWindow })},
	{key: "state_dir", variable: "TIDINGS_STATE_DIR", help: "where this machine keeps its record of the campaigns it started and the delivery journals, which must survive a Redis loss (default $XDG_STATE_HOME/tidings/<env>, else $HOME/.local/state/tidings/<env>)", set: text(func(e *Environment) *string { return &e.StateDir })},
	{key: "journal.dir", variable: "TIDINGS_JOURNAL_DIR", help: "the workers' delivery journals (default <state_dir>/journal)", set: text(func(e *Environment) *string { return &e.Journal.Dir })},
	{key: "journal.fsync", variable: "TIDINGS_JOURNAL_FSYNC", help: "always (after every write: twice per claim window) or how often the journal is flushed to disk (default 200ms)", set: setFsync},
	{key: "console.addr", variable: "TIDINGS_CONSOLE_ADDR", help: "web console listen address (default 127.0.0.1:8080)", set: text(func(e *Environment) *string { return &e.Console.Addr })},
	{key: "console.url", variable: "TIDINGS_CONSOLE_URL", help: "the console's public base URL, used in notification links (default http://<addr>)", set: text(func(e *Environment) *string { return &e.Console.URL })},
	{key: "console.viewer_token_file", help: "file holding the viewer token"},
	{key: "console.viewer_token_file", variable: "TIDINGS_CONSOLE_VIEWER_TOKEN", help: "console viewer token (secret)", secret: true, set: secret(func(e *Environment) *Secret { return &e.Console.ViewerToken })},
	{key: "console.operator_token_file", help: "file holding the operator token"},
	{key: "console.operator_token_file", variable: "TIDINGS_CONSOLE_OPERATOR_TOKEN", help: "console operator token (secret)", secret: true, set: secret(func(e *Environment) *Secret { return &e.Console.OperatorToken })},
	{key: "notify.slack_webhook_url_file", help: "file holding the Slack-compatible webhook URL"},
	{key: "notify.slack_webhook_url_file", variable: "TIDINGS_NOTIFY_SLACK_WEBHOOK_URL", help: "Slack-compatible webhook URL for notifications (secret)", secret: true, set: secret(func(e *Environment) *Secret { return &e.Notify.SlackWebhookURL })},
	{key: "notify.webhook_url_file", help: "file holding the generic JSON webhook URL"},
	{key: "notify.webhook_url_file", variable: "TIDINGS_NOTIFY_WEBHOOK_URL", help: "generic JSON webhook URL for notifications (secret)", secret: true, set: secret(func(e *Environment) *Secret { return &e.Notify.WebhookURL })},
	{key: "notify.no_progress_after", variable: "TIDINGS_NOTIFY_NO_PROGRESS_AFTER", help: "notify when a running campaign has sent nothing for this long (default 10m)", set: duration(func(e *Environment) *time.Duration { return &e.Notify.NoProgressAfter })},
}

func text(field func(*Environment) *string) func(*Environment, string) error {
	return func(e *Environment, v string) error { *field(e) = v; return nil }
}

func secret(field func(*Environment) *Secret) func(*Environment, string) error {
	return func(e *Environment, v string) error { *field(e) = Secret(v); return nil }
}

// secretFile reads a secret from a file named by a variable (relative to
// the working directory).
func secretFile(field func(*Environment) *Secret) func(*Environment, string) error {
	return func(e *Environment, path string) error {
		s, err := readSecret(path)
		if err != nil {
			return err
		}
		*field(e) = s
		return nil
	}
}

func boolean(field func(*Environment) *bool) func(*Environment, string) error {
	return func(e *Environment, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not a boolean: use true or false", v)
		}
		*field(e) = b
		return nil
	}
}

// integer reads a whole number; example is one to suggest.
func integer(example int, field func(*Environment) *int) func(*Environment, string) error {
	return func(e *Environment, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not a whole number: write digits only, e.g. %d", v, example)
		}
		*field(e) = n
		return nil
	}
}

func duration(field func(*Environment) *time.Duration) func(*Environment, string) error {
	return func(e *Environment, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration: write e.g. 500ms, 30s or 10m", v)
		}
		*field(e) = d
		return nil
	}
}

// list reads a comma-separated list. An empty entry is refused, as the
// config file refuses "": a variable of commas alone would otherwise
// replace the file's list with none (TIDINGS_ALLOW=",": no allowlist).
func list(field func(*Environment) *[]string) func(*Environment, string) error {
	return func(e *Environment, v string) error {
		var out []string
		for i, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p == "" {
				return fmt.Errorf("entry %d of %q is empty: remove the extra comma (entries are separated by commas, e.g. a.example,b.example), or unset the variable", i+1, v)
			}
			out = append(out, p)
		}
		*field(e) = out
		return nil
	}
}

// Reference returns the documentation of the config file's keys and every
// TIDINGS_* variable, for the CLI's help.
func Reference() string {
	var b strings.Builder
	b.WriteString(`Environments come from the config file (key environments.<name>) and TIDINGS_*
variables, which override the chosen environment's settings. Secrets are read
only from variables and from files the config file names, never from the
config file itself. Paths in the config file are relative to it.

Keys under environments.<name>:
`)
	seen := map[string]bool{}
	for _, s := range settings {
		if s.key == "" || seen[s.key] {
			continue
		}
		seen[s.key] = true
		writeWrapped(&b, s.key, s.help)
	}
	b.WriteString("\nVariables (each overrides the key it names):\n")
	for _, s := range settings {
		switch {
		case s.variable == "":
		case s.secret:
			writeWrapped(&b, s.variable, s.help+", instead of "+s.key)
		default:
			writeWrapped(&b, s.variable, s.key)
		}
	}
	fmt.Fprintf(&b, "\nWithout a config file: Redis %s, SMTP %s:%d without TLS.\n", DefaultRedisURL, DefaultSMTPHost, DefaultSMTPPort)
	b.WriteString("The environment named production is always a production environment.\n")
	return b.String()
}

// writeWrapped writes a name and its help, the help wrapped at 100 columns
// and indented under itself.
func writeWrapped(b *strings.Builder, name, help string) {
	const indent, width = 36, 100
	fmt.Fprintf(b, "  %-*s", indent-2, name)
	col := indent
	if len(name)+2 >= indent {
		b.WriteString("\n" + strings.Repeat(" ", indent))
	}
	for i, w := range strings.Fields(help) {
		if i > 0 && col+1+len(w) > width {
			b.WriteString("\n" + strings.Repeat(" ", indent))
			col = indent
		} else if i > 0 {
			b.WriteByte(' ')
			col++
		}
		b.WriteString(w)
		col += len(w)
	}
	b.WriteByte('\n')
}

package config

import (
	"context"
	"fmt"
	"github.com/govwatch/govwatch/pkg/conf"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/govwatch/govwatch/pkg/plugin"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/robfig/cron/v3"
)

// CronParser reads the schedules of global jobs: five fields, descriptors
// such as @every 1m, and an optional CRON_TZ=Area/City prefix.
var CronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule parses a cron spec with CronParser, turning the parser's
// panic on a bare "CRON_TZ=…" into an error.
func ParseSchedule(spec string) (s cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("%v", r)
		}
	}()
	return CronParser.Parse(spec)
}

// Loaded is a checked configuration and the registry it describes.
type Loaded struct {
	Config
	Registry *registry.Registry
	// Positions locates the keys of the config file, for checks made
	// outside this package (nil when the config was not loaded from a file).
	Positions *conf.Positions
	// Detectors are analyzer.detectors decoded and validated: every
	// registered detector, in the order of their names.
	Detectors []DetectorConfig
}

// Load reads, expands, decodes and validates the file at path and the
// registry file it names. The error, when not nil, is a Problems listing every
// problem found, each with file:line.
func Load(path string) (*Loaded, error) {
	return LoadContext(context.Background(), path)
}

// LoadContext is Load that stops reading the registry file, between one
// batch of accounts and the next, once ctx is done: a registry of 300,000
// accounts takes seconds. What was not read is then a problem of its own.
func LoadContext(ctx context.Context, path string) (*Loaded, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, conf.Problems{{File: path, Msg: err.Error()}}
	}
	return loadBytes(ctx, path, data, filepath.Dir(path))
}

// LoadBytes is Load on a file already read: name is used in problems, and
// relative paths inside it are resolved against dir.
func LoadBytes(name string, data []byte, dir string) (*Loaded, error) {
	return loadBytes(context.Background(), name, data, dir)
}

func loadBytes(ctx context.Context, name string, data []byte, dir string) (*Loaded, error) {
	cfg := Default()
	cfg.Path = filepath.Join(dir, filepath.Base(name))
	d := conf.NewDecoder(name, dir)
	d.Document(data, &cfg)
	cfg.Analyzer.movedKeys(d)
	dets := decodeDetectors(d, detectorsPath, cfg.Analyzer.Detectors)
	pos := d.Pos
	cfg.decodeReceivers(d)
	cfg.Collector.SourceSettings = decodeSettings(d, plugin.Source, "collector.sources", cfg.Collector.Sources)
	reg, used, rprobs := cfg.buildRegistry(ctx, d)
	validateSettings(d, plugin.Source, "collector.sources", cfg.Collector.SourceSettings, reg, used)
	cfg.validateReceivers(d, reg)
	validateDetectors(d, detectorsPath, dets, reg)
	probs := slices.Clone(d.Problems())
	probs = append(probs, rprobs...)
	probs = append(probs, cfg.validate(pos)...)
	probs = append(probs, cfg.validateDuty(pos, reg)...)
	if len(probs) > 0 {
		return nil, probs.Sorted()
	}
	return &Loaded{Config: cfg, Registry: reg, Positions: pos, Detectors: dets}, nil
}

// dir is the directory relative paths in the config are resolved against.
func (c *Config) dir() string {
	if c.Path == "" {
		return ""
	}
	return filepath.Dir(c.Path)
}

// Resolve returns p relative to the config file's directory, unless absolute.
func (c *Config) Resolve(p string) string {
	if p == "" || filepath.IsAbs(p) || c.Path == "" {
		return p
	}
	return filepath.Join(filepath.Dir(c.Path), p)
}

type origin struct {
	pos  *conf.Positions
	path string // e.g. registry.accounts[3] or accounts[0]
}

// buildRegistry builds the registry of the config's accounts and of its
// registry file, decoding each account's source block with the source it
// names: those of the config with d, those of the file a batch at a time as
// they are read. used tells the sources accounts name. Problems of the
// config's own accounts go to d, the others are returned.
func (c *Config) buildRegistry(ctx context.Context, d *conf.Decoder) (*registry.Registry, map[string]bool, conf.Problems) {
	pos := d.Pos
	before := len(d.Problems())
	used := map[string]bool{}
	decodeSources := func(d *conf.Decoder, base string, first int, accounts []AccountConfig) {
		for i := range accounts {
			a := &accounts[i]
			src, _ := decodeAccountSource(d, fmt.Sprintf("%s[%d].source", base, first+i), a.Source, a.ID, a.Platform, a.Unit, c.Collector.SourceSettings)
			a.source = &src
			a.Source = conf.Section{} // its YAML is not needed any more
			used[src.Type] = true
		}
	}
	decodeSources(d, "registry.accounts", 0, c.Registry.Accounts)
	units, accounts := c.Registry.Units, c.Registry.Accounts
	var uo, ao []origin
	for i := range units {
		uo = append(uo, origin{pos, fmt.Sprintf("registry.units[%d]", i)})
	}
	for i := range accounts {
		ao = append(ao, origin{pos, fmt.Sprintf("registry.accounts[%d]", i)})
	}
	var probs conf.Problems
	if c.Registry.File != "" {
		var f RegistryFile
		file := c.Resolve(c.Registry.File)
		fpos, err := decodeRegistryFile(ctx, file, c.dir(), &f, func(d *conf.Decoder, first int, accounts []AccountConfig) {
			decodeSources(d, "accounts", first, accounts)
		})
		if err != nil {
			if ps, ok := err.(conf.Problems); ok {
				return nil, used, ps
			}
			return nil, used, conf.Problems{pos.Problem("registry.file", "%v", err)}
		}
		for i := range f.Units {
			uo = append(uo, origin{fpos, fmt.Sprintf("units[%d]", i)})
		}
		for i := range f.Accounts {
			ao = append(ao, origin{fpos, fmt.Sprintf("accounts[%d]", i)})
		}
		units = concat(units, f.Units)
		accounts = concat(accounts, f.Accounts)
	}
	ru := make([]registry.Unit, len(units))
	for i, u := range units {
		ru[i] = registry.Unit{ID: u.ID, Name: u.Name, Region: u.Region, Parent: u.Parent, Head: u.Head.contact()}
		for _, ct := range u.Contacts {
			ru[i].Contacts = append(ru[i].Contacts, ct.contact())
		}
	}
	ra := make([]registry.Account, len(accounts))
	for i, a := range accounts {
		ra[i] = registry.Account{
			ID: a.ID, Name: a.Name, Platform: a.Platform, Unit: a.Unit, Status: a.Status,
			StaleAfter: a.StaleAfter.D(), Tier: a.Tier,
			StaleWarningAfter: a.StaleWarningAfter.D(), ZombieAfter: a.ZombieAfter.D(),
		}
		if s := a.source; s != nil {
			ra[i].Source = registry.Source{Type: s.Type, Interval: s.Interval.D(), Options: s.Options}
		}
		probs = append(probs, c.checkTier(ao[i], a)...)
	}
	reg, rps := registry.New(ru, ra)
	for _, p := range rps {
		o := uo
		if p.Kind == "accounts" {
			o = ao
		}
		probs = append(probs, o[p.Index].pos.Problem(o[p.Index].path+"."+p.Field, "%s", p.Msg))
	}
	if len(probs) > 0 || len(d.Problems()) > before {
		return nil, used, probs
	}
	return reg, used, nil
}

func (ct ContactConfig) contact() registry.Contact {
	return registry.Contact{Name: ct.Name, Title: ct.Title, Mobile: ct.Mobile, Email: ct.Email, IDs: ct.IDs}
}

func (c *Config) validate(pos *conf.Positions) conf.Problems {
	var ps conf.Problems
	bad := func(path, format string, args ...any) { ps = append(ps, pos.Problem(path, format, args...)) }

	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		bad("log.level", "unknown level %q (debug, info, warn or error)", c.Log.Level)
	}
	if !slices.Contains([]string{"json", "console"}, c.Log.Format) {
		bad("log.format", "unknown format %q (json or console)", c.Log.Format)
	}
	if c.DataDir == "" {
		bad("data_dir", "must not be empty")
	}
	if !c.NATS.Embedded && len(c.NATS.URLs) == 0 {
		bad("nats.urls", "no NATS server: set nats.embedded: true or list nats.urls")
	}
	for i, u := range c.NATS.URLs {
		if _, err := url.Parse(u); err != nil || !strings.Contains(u, "://") {
			bad(fmt.Sprintf("nats.urls[%d]", i), "bad NATS URL %q (want nats://host:4222)", u)
		}
	}
	if c.NATS.SubjectPrefix == "" || !registry.SafeID(c.NATS.SubjectPrefix) {
		bad("nats.subject_prefix", "prefix %q must match [a-z0-9_-]+", c.NATS.SubjectPrefix)
	}
	if c.NATS.StreamReplicas < 1 || c.NATS.StreamReplicas > 5 {
		bad("nats.stream_replicas", "must be 1 to 5, not %d", c.NATS.StreamReplicas)
	}
	c.checkFile(bad, "nats.credentials_file", c.NATS.CredentialsFile)
	c.checkFile(bad, "nats.nkey_file", c.NATS.NKeyFile)
	switch c.Store.Backend {
	case "embedded":
	case "redis":
		if len(c.Store.Redis.Addrs) == 0 {
			bad("store.redis.addrs", "the redis backend needs at least one address")
		}
		c.checkFile(bad, "store.redis.password_file", c.Store.Redis.PasswordFile)
		checkEnv(bad, "store.redis.password_env", c.Store.Redis.PasswordEnv)
	default:
		bad("store.backend", "unknown backend %q (embedded or redis)", c.Store.Backend)
	}

	positive := func(path string, v int) {
		if v < 1 {
			bad(path, "must be at least 1, not %d", v)
		}
	}
	positive("collector.workers", c.Collector.Workers)
	if c.Analyzer.Workers < 0 {
		bad("analyzer.workers", "must be 0 (twice the CPU cores) or more, not %d", c.Analyzer.Workers)
	}
	positive("notifier.workers", c.Notifier.Workers)
	atLeast := func(path string, d conf.Duration, min conf.Duration) {
		if d < min {
			bad(path, "must be at least %s, not %s", min, d)
		}
	}
	atLeast("collector.interval", c.Collector.Interval, conf.Duration(time.Second))
	atLeast("collector.timeout", c.Collector.Timeout, conf.Duration(time.Second))
	if _, err := ParseSchedule(c.Analyzer.Sweep); err != nil {
		bad("analyzer.sweep", "bad cron schedule %q: %v", c.Analyzer.Sweep, err)
	}
	for path, d := range map[string]conf.Duration{
		"http.header_timeout": c.HTTP.HeaderTimeout, "http.read_timeout": c.HTTP.ReadTimeout,
		"http.write_timeout": c.HTTP.WriteTimeout, "http.idle_timeout": c.HTTP.IdleTimeout,
	} {
		// Without a timeout a slow body or an idle connection is held for ever.
		atLeast(path, d, conf.Duration(100*time.Millisecond))
	}
	if c.HTTP.MaxConnsPerClient < 0 {
		bad("http.max_conns_per_client", "must not be negative, not %d (0: no cap)", c.HTTP.MaxConnsPerClient)
	}
	c.validateCollect(bad)
	c.validateContent(bad)
	if c.Collector.MaxBody < 1024 {
		bad("collector.max_body", "must be at least 1KiB")
	}

	ps = append(ps, c.validateNotify(pos)...)

	if c.Simulate.Enabled {
		if c.Simulate.Scenario == "" {
			bad("simulate.scenario", "the simulator is enabled but names no scenario file")
		} else {
			c.checkFile(bad, "simulate.scenario", c.Simulate.Scenario)
		}
	}
	return ps
}

func (c *Config) checkFile(bad func(string, string, ...any), path, file string) {
	if file == "" {
		return
	}
	if _, err := os.Stat(c.Resolve(file)); err != nil {
		bad(path, "cannot read %q: %v", file, unwrapPathError(err))
	}
}

func checkEnv(bad func(string, string, ...any), path, name string) {
	if name == "" {
		return
	}
	if _, ok := os.LookupEnv(name); !ok {
		bad(path, "environment variable %s is not set", name)
	}
}

// Secret reads a secret from a file (trailing newline trimmed) or an
// environment variable; file wins when both are given. No secret is an empty
// result, not an error.
func (c *Config) Secret(file, env string) ([]byte, error) {
	if file != "" {
		b, err := os.ReadFile(c.Resolve(file))
		if err != nil {
			return nil, fmt.Errorf("read secret: %w", err)
		}
		return []byte(strings.TrimRight(string(b), "\r\n")), nil
	}
	if env != "" {
		v, ok := os.LookupEnv(env)
		if !ok {
			return nil, fmt.Errorf("secret: environment variable %s is not set", env)
		}
		return []byte(v), nil
	}
	return nil, nil
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// concat is a followed by b in a new slice, or b itself when a is empty: a
// registry file's 300,000 accounts are not copied for nothing.
func concat[T any](a, b []T) []T {
	if len(a) == 0 {
		return b
	}
	return append(a[:len(a):len(a)], b...)
}

// Package redis is the store.Store backend shared by several replicas: Redis
// through go-redis's UniversalClient, so a single server, Sentinel and Cluster
// all work.
//
// Every key is stored under a prefix (DefaultPrefix unless configured), so
// several deployments or tests can share one Redis. Get, Set, SetNX and Delete
// are single commands; CompareAndSwap and Incr run as Lua scripts so that the
// read and the write happen atomically on the server. Scan walks SCAN MATCH
// over the prefix (on every master of a cluster), never KEYS: it is for admin
// tools. Hot paths read declared kinds with List, from index sets that every
// write of a kind's key updates in the same MULTI or script (index.go).
package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/govwatch/govwatch/pkg/store"
)

// DefaultPrefix is put in front of every key when no prefix is configured.
const DefaultPrefix = "govwatch:"

// scanCount is the COUNT hint given to SCAN: keys examined per round trip.
const scanCount = 256

// casSrc compares the current value with ARGV[2] (or requires the key to be
// absent when ARGV[1] is "0") and then sets ARGV[3] with a PX of ARGV[4]
// milliseconds, 0 meaning no expiry. With a second key, the index of the
// key's kind, it adds the member ARGV[5] to it in the same script.
const casSrc = `
local cur = redis.call('GET', KEYS[1])
if ARGV[1] == '0' then
  if cur then return 0 end
elseif cur ~= ARGV[2] then
  return 0
end
local ms = tonumber(ARGV[4])
if ms > 0 then
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ms)
else
  redis.call('SET', KEYS[1], ARGV[3])
end
if #KEYS > 1 then redis.call('SADD', KEYS[2], ARGV[5]) end
return 1
`

// incrSrc adds ARGV[1] to the key and, only when the key did not exist
// before, sets its expiry to ARGV[2] milliseconds (0: none); with a second
// key, the kind's index, it adds the member ARGV[3] to it.
const incrSrc = `
local existed = redis.call('EXISTS', KEYS[1])
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
local ms = tonumber(ARGV[2])
if existed == 0 and ms > 0 then
  redis.call('PEXPIRE', KEYS[1], ms)
end
if #KEYS > 1 then redis.call('SADD', KEYS[2], ARGV[3]) end
return n
`

// Options configures Open. A MasterName selects Sentinel (Addrs are then the
// sentinels); more than one address selects Cluster; otherwise Addrs[0] is a
// single server.
type Options struct {
	Addrs      []string
	Username   string
	Password   string
	DB         int
	MasterName string
	// Prefix goes in front of every key; DefaultPrefix when empty.
	Prefix string
}

// Store is a store.Store on Redis. Build it with New around a client the
// caller owns, or with Open, which builds the client and closes it in Close.
type Store struct {
	client     goredis.UniversalClient
	ownsClient bool
	prefix     string
	cas        *goredis.Script
	incr       *goredis.Script
	// cleanScript drops index members whose values are gone.
	cleanScript *goredis.Script
	// built holds the kinds whose index this Store knows is built.
	built sync.Map
}

var _ store.Store = (*Store)(nil)

// New returns a Store that keeps its keys under prefix (DefaultPrefix when
// empty) in client. The caller keeps ownership of client: Close does not
// close it.
func New(client goredis.UniversalClient, prefix string) *Store {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &Store{
		client: client,
		prefix: prefix,
		cas:    goredis.NewScript(casSrc),
		incr:   goredis.NewScript(incrSrc),

		cleanScript: goredis.NewScript(cleanSrc),
	}
}

// Open builds a UniversalClient from opts, checks with PING that Redis
// answers, and returns a Store that closes the client in Close.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if len(opts.Addrs) == 0 {
		return nil, errors.New("redis open: no addresses")
	}
	client := goredis.NewUniversalClient(&goredis.UniversalOptions{
		Addrs:      opts.Addrs,
		Username:   opts.Username,
		Password:   opts.Password,
		DB:         opts.DB,
		MasterName: opts.MasterName,
	})
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, fmt.Errorf("redis ping %s: %w", strings.Join(opts.Addrs, ","), err)
	}
	s := New(client, opts.Prefix)
	s.ownsClient = true
	return s, nil
}

// Prefix returns the prefix in front of every key.
func (s *Store) Prefix() string { return s.prefix }

// Close closes the client when the Store built it in Open.
func (s *Store) Close() error {
	if !s.ownsClient {
		return nil
	}
	if err := s.client.Close(); err != nil && !errors.Is(err, goredis.ErrClosed) {
		return fmt.Errorf("redis close: %w", err)
	}
	return nil
}

// Get returns the value of key, or store.ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	val, err := s.client.Get(ctx, s.prefix+key).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("redis get %s: %w", key, err)
	}
	return nonNil(val), nil
}

// Set stores val under key, replacing any value and expiry.
func (s *Store) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	ttl, err := redisTTL(ttl)
	if err != nil {
		return fmt.Errorf("redis set %s: %w", key, err)
	}
	var cmd *goredis.StatusCmd
	err = s.write(ctx, key, true, func(c goredis.Cmdable) { cmd = c.Set(ctx, s.prefix+key, nonNil(val), ttl) })
	if err == nil {
		err = cmd.Err()
	}
	if err != nil {
		return fmt.Errorf("redis set %s: %w", key, err)
	}
	return nil
}

// SetNX stores val only when key is absent or expired (SET NX PX).
func (s *Store) SetNX(ctx context.Context, key string, val []byte, ttl time.Duration) (bool, error) {
	ttl, err := redisTTL(ttl)
	if err != nil {
		return false, fmt.Errorf("redis setnx %s: %w", key, err)
	}
	var cmd *goredis.BoolCmd
	err = s.write(ctx, key, true, func(c goredis.Cmdable) { cmd = c.SetNX(ctx, s.prefix+key, nonNil(val), ttl) })
	var ok bool
	if err == nil {
		ok, err = cmd.Result()
	}
	if err != nil {
		return false, fmt.Errorf("redis setnx %s: %w", key, err)
	}
	return ok, nil
}

// CompareAndSwap replaces the value of key with val only when the current
// value equals old; old == nil requires the key to be absent.
func (s *Store) CompareAndSwap(ctx context.Context, key string, old, val []byte, ttl time.Duration) (bool, error) {
	ttl, err := redisTTL(ttl)
	if err != nil {
		return false, fmt.Errorf("redis cas %s: %w", key, err)
	}
	// Lua cannot tell a nil argument from an empty one, hence the flag.
	hasOld := "1"
	if old == nil {
		hasOld = "0"
	}
	keys, member, err := s.scriptKeys(ctx, key)
	if err != nil {
		return false, fmt.Errorf("redis cas %s: %w", key, err)
	}
	args := append([]any{hasOld, nonNil(old), nonNil(val), ttl.Milliseconds()}, member...)
	n, err := s.cas.Run(ctx, s.client, keys, args...).Int64()
	if err != nil {
		return false, fmt.Errorf("redis cas %s: %w", key, err)
	}
	return n == 1, nil
}

// Incr adds delta to the integer stored at key (absent counts as 0), sets the
// expiry only when it creates the key, and returns the new value.
func (s *Store) Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	ttl, err := redisTTL(ttl)
	if err != nil {
		return 0, fmt.Errorf("redis incr %s: %w", key, err)
	}
	keys, member, err := s.scriptKeys(ctx, key)
	if err != nil {
		return 0, fmt.Errorf("redis incr %s: %w", key, err)
	}
	args := append([]any{delta, ttl.Milliseconds()}, member...)
	n, err := s.incr.Run(ctx, s.client, keys, args...).Int64()
	if err != nil {
		return 0, fmt.Errorf("redis incr %s: %w", key, err)
	}
	return n, nil
}

// Delete removes key; deleting an absent key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	var cmd *goredis.IntCmd
	err := s.write(ctx, key, false, func(c goredis.Cmdable) { cmd = c.Del(ctx, s.prefix+key) })
	if err == nil {
		err = cmd.Err()
	}
	if err != nil {
		return fmt.Errorf("redis delete %s: %w", key, err)
	}
	return nil
}

// Scan calls fn for every live key with the given prefix, in no particular
// order, until fn returns an error, which Scan returns unwrapped. It uses
// SCAN MATCH (on every master of a cluster, one master at a time), fetches the
// values of each batch in one pipeline, skips keys that vanish in between and
// calls fn at most once per key even though SCAN may repeat keys. fn may write
// to the store; keys written during the Scan may or may not be visited.
func (s *Store) Scan(ctx context.Context, prefix string, fn func(key string, val []byte) error) error {
	sc := &scanner{
		store:   s,
		pattern: escapeGlob(s.prefix+prefix) + "*",
		fn:      fn,
		seen:    make(map[string]struct{}),
	}
	cluster, ok := s.client.(*goredis.ClusterClient)
	if !ok {
		return sc.node(ctx, s.client)
	}
	// ForEachMaster runs its callback concurrently; the mutex keeps fn
	// serial and lets the first error stop the other masters.
	var mu sync.Mutex
	var first error
	err := cluster.ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		if first != nil {
			return nil
		}
		first = sc.node(ctx, c)
		return nil
	})
	if first != nil {
		return first
	}
	if err != nil {
		return fmt.Errorf("redis scan %s: %w", prefix, err)
	}
	return nil
}

// scanner holds the state of one Scan across the nodes it walks.
type scanner struct {
	store   *Store
	pattern string
	fn      func(key string, val []byte) error
	seen    map[string]struct{}
}

// node walks one server's keyspace. Errors from fn come back unwrapped.
func (sc *scanner) node(ctx context.Context, c goredis.Cmdable) error {
	var cursor uint64
	for {
		keys, next, err := c.Scan(ctx, cursor, sc.pattern, scanCount).Result()
		if err != nil {
			return fmt.Errorf("redis scan %s: %w", sc.pattern, err)
		}
		if err := sc.batch(ctx, c, keys); err != nil {
			return err
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// batch fetches the values of keys in one pipeline and hands them to fn.
func (sc *scanner) batch(ctx context.Context, c goredis.Cmdable, keys []string) error {
	fresh := keys[:0:0]
	for _, k := range keys {
		if sc.store.isReserved(k) {
			continue // an index or a marker, not a value
		}
		if _, dup := sc.seen[k]; !dup {
			sc.seen[k] = struct{}{}
			fresh = append(fresh, k)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	p := c.Pipeline()
	cmds := make([]*goredis.StringCmd, len(fresh))
	for i, k := range fresh {
		cmds[i] = p.Get(ctx, k)
	}
	// Per-command errors, redis.Nil included, are read from cmds below.
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
		return fmt.Errorf("redis scan %s: %w", sc.pattern, err)
	}
	for i, cmd := range cmds {
		val, err := cmd.Bytes()
		if errors.Is(err, goredis.Nil) {
			continue // expired or deleted since SCAN returned it
		}
		if err != nil {
			return fmt.Errorf("redis scan get %s: %w", fresh[i], err)
		}
		if err := sc.fn(strings.TrimPrefix(fresh[i], sc.store.prefix), nonNil(val)); err != nil {
			return err
		}
	}
	return nil
}

// escapeGlob escapes the characters that SCAN MATCH treats as a pattern, so
// that s matches only itself.
func escapeGlob(s string) string {
	// Bytes, not runes: keys need not be valid UTF-8, and Redis matches
	// byte by byte.
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\', '^', '-':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// redisTTL rejects a negative ttl (go-redis would read -1 as KEEPTTL) and
// rounds a positive one up to whole milliseconds, Redis's resolution.
func redisTTL(ttl time.Duration) (time.Duration, error) {
	if ttl < 0 {
		return 0, fmt.Errorf("negative ttl %s", ttl)
	}
	if r := ttl % time.Millisecond; r != 0 {
		ttl += time.Millisecond - r
	}
	return ttl, nil
}

// nonNil turns a nil slice into an empty one: so that go-redis sends an
// empty string for it, and so that an empty value read is never nil.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

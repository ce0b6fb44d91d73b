package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/govwatch/govwatch/pkg/store"
)

// The indexes of the declared kinds (store.DeclareKind) live under the
// store's prefix in a namespace no component key uses: a set per kind and
// shard, "_index/<kind prefix><shard>", whose members are the keys (without
// the store prefix), and a marker "_indexed/<kind prefix>" saying the index
// was built from the keyspace once. Scan skips both.
const (
	indexNS  = "_index/"
	markerNS = "_indexed/"
	reserved = "_index"
)

// listCount is the COUNT hint given to SSCAN over an index set.
const listCount = 256

// cleanSrc removes from the index KEYS[1] each member ARGV[i] whose value
// key KEYS[i+1] no longer exists: the members of expired or deleted values.
// Checking and removing in one script keeps a concurrent write, which adds
// the member again with its value, from being undone.
const cleanSrc = `
local n = 0
for i = 1, #ARGV do
  if redis.call('EXISTS', KEYS[i + 1]) == 0 then
    n = n + redis.call('SREM', KEYS[1], ARGV[i])
  end
end
return n
`

// indexKey returns the index set that key belongs to in kind k.
func (s *Store) indexKey(k store.Kind, key string) string {
	return s.prefix + indexNS + k.Prefix + strconv.Itoa(k.ShardOf(key))
}

// isReserved reports whether a full Redis key is an index or a marker.
func (s *Store) isReserved(full string) bool {
	return strings.HasPrefix(full, s.prefix+reserved)
}

// cluster reports whether the client is a Cluster client, where a key and
// its index usually sit in different slots and cannot share a MULTI or a
// script.
func (s *Store) cluster() bool {
	_, ok := s.client.(*goredis.ClusterClient)
	return ok
}

// write runs the value write do for key and, when key belongs to a declared
// kind, adds it to (add) or removes it from its index in the same MULTI, so
// the value and the index cannot disagree. On a Cluster the two go out in
// order instead — index before value when adding, value before index when
// removing — so that a failure in between leaves at worst a member without
// a value, which List removes.
func (s *Store) write(ctx context.Context, key string, add bool, do func(p goredis.Cmdable)) error {
	k, ok := store.KindOf(key)
	if !ok {
		do(s.client)
		return nil
	}
	idx := s.indexKey(k, key)
	if s.cluster() {
		if add {
			if err := s.client.SAdd(ctx, idx, key).Err(); err != nil {
				return err
			}
			do(s.client)
			return nil
		}
		do(s.client)
		return s.client.SRem(ctx, idx, key).Err()
	}
	_, err := s.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		do(p)
		if add {
			p.SAdd(ctx, idx, key)
		} else {
			p.SRem(ctx, idx, key)
		}
		return nil
	})
	if errors.Is(err, goredis.Nil) {
		return nil // a SET NX that did not set: its Cmd says so
	}
	return err
}

// scriptKeys returns the KEYS and extra ARGV for a script writing key: with
// the index set and the member appended when key belongs to a kind and both
// can go in one script; on a Cluster the member is added beforehand.
func (s *Store) scriptKeys(ctx context.Context, key string) (keys []string, member []any, err error) {
	keys = []string{s.prefix + key}
	k, ok := store.KindOf(key)
	if !ok {
		return keys, nil, nil
	}
	idx := s.indexKey(k, key)
	if s.cluster() {
		return keys, nil, s.client.SAdd(ctx, idx, key).Err()
	}
	return append(keys, idx), []any{key}, nil
}

// List calls fn for every live key of the declared kind prefix, reading its
// index sets, never the keyspace.
func (s *Store) List(ctx context.Context, prefix string, fn func(key string, val []byte) error) error {
	return store.ListAll(ctx, s, prefix, fn)
}

// ListShard calls fn for every live key in one shard of the declared kind
// prefix. It walks the shard's index set with SSCAN, fetches the values in
// one pipeline per batch and removes the members whose value expired or was
// deleted. The first List of a kind by this Store builds the index from the
// keyspace when no marker says it was built (the migration of data written
// before the kind had an index).
func (s *Store) ListShard(ctx context.Context, prefix string, shard int, fn func(key string, val []byte) error) error {
	k, err := store.LookupShard(prefix, shard)
	if err != nil {
		return err
	}
	if err := s.ensureIndex(ctx, k); err != nil {
		return err
	}
	idx := s.prefix + indexNS + k.Prefix + strconv.Itoa(shard)
	seen := make(map[string]struct{})
	var cursor uint64
	for {
		members, next, err := s.client.SScan(ctx, idx, cursor, "", listCount).Result()
		if err != nil {
			return fmt.Errorf("redis list %s: %w", prefix, err)
		}
		fresh := members[:0:0]
		for _, m := range members {
			if _, dup := seen[m]; !dup {
				seen[m] = struct{}{}
				fresh = append(fresh, m)
			}
		}
		if err := s.listBatch(ctx, idx, fresh, fn); err != nil {
			return err
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// listBatch hands fn the live members and drops the dead ones from idx.
func (s *Store) listBatch(ctx context.Context, idx string, members []string, fn func(key string, val []byte) error) error {
	if len(members) == 0 {
		return nil
	}
	full := make([]string, len(members))
	for i, m := range members {
		full[i] = s.prefix + m
	}
	vals, err := s.values(ctx, full)
	if err != nil {
		return fmt.Errorf("redis list %s: %w", idx, err)
	}
	var dead []string
	for i, v := range vals {
		if v == nil {
			dead = append(dead, members[i])
			continue
		}
		if err := fn(members[i], v); err != nil {
			return err
		}
	}
	if err := s.clean(ctx, idx, dead); err != nil {
		return fmt.Errorf("redis list %s: clean: %w", idx, err)
	}
	return nil
}

// values fetches keys in one pipeline; an absent key gives a nil value.
func (s *Store) values(ctx context.Context, keys []string) ([][]byte, error) {
	p := s.client.Pipeline()
	cmds := make([]*goredis.StringCmd, len(keys))
	for i, k := range keys {
		cmds[i] = p.Get(ctx, k)
	}
	// Per-command errors, redis.Nil included, are read from cmds below.
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
		return nil, err
	}
	out := make([][]byte, len(keys))
	for i, cmd := range cmds {
		val, err := cmd.Bytes()
		if errors.Is(err, goredis.Nil) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("get %s: %w", keys[i], err)
		}
		out[i] = nonNil(val)
	}
	return out, nil
}

// clean removes the members whose values are gone, atomically with the
// check (one script) except on a Cluster, where it checks and removes
// member by member.
func (s *Store) clean(ctx context.Context, idx string, dead []string) error {
	if len(dead) == 0 {
		return nil
	}
	if s.cluster() {
		for _, m := range dead {
			n, err := s.client.Exists(ctx, s.prefix+m).Result()
			if err != nil {
				return err
			}
			if n == 0 {
				if err := s.client.SRem(ctx, idx, m).Err(); err != nil {
					return err
				}
			}
		}
		return nil
	}
	keys := make([]string, 0, len(dead)+1)
	args := make([]any, len(dead))
	keys = append(keys, idx)
	for i, m := range dead {
		keys = append(keys, s.prefix+m)
		args[i] = m
	}
	return s.cleanScript.Run(ctx, s.client, keys, args...).Err()
}

// ensureIndex builds kind k's index from the keyspace once: when no marker
// says it was built, it walks the kind's keys with SCAN, adds each to its
// shard's set and sets the marker. Replicas doing it at once add the same
// members; a write meanwhile adds its own member; a delete meanwhile may
// leave a member without a value, which List removes.
func (s *Store) ensureIndex(ctx context.Context, k store.Kind) error {
	if _, done := s.built.Load(k.Prefix); done {
		return nil
	}
	marker := s.prefix + markerNS + k.Prefix
	n, err := s.client.Exists(ctx, marker).Result()
	if err != nil {
		return fmt.Errorf("redis index %s: %w", k.Prefix, err)
	}
	if n == 0 {
		err := s.Scan(ctx, k.Prefix, func(key string, _ []byte) error {
			return s.client.SAdd(ctx, s.indexKey(k, key), key).Err()
		})
		if err != nil {
			return fmt.Errorf("redis index %s: build from keyspace: %w", k.Prefix, err)
		}
		if err := s.client.Set(ctx, marker, "1", 0).Err(); err != nil {
			return fmt.Errorf("redis index %s: %w", k.Prefix, err)
		}
	}
	s.built.Store(k.Prefix, struct{}{})
	return nil
}

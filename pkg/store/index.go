package store

import (
	"context"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"sync"
)

// An index lets a component read the members of a kind — every key under a
// declared prefix — in time proportional to the members, not to the whole
// keyspace. A package declares its kinds once, at initialisation, with
// DeclareKind; from then on every backend keeps each declared prefix's
// members in an index updated by the same atomic write as the value (a Redis
// set per kind and shard in the same MULTI or Lua script; bbolt keeps keys
// sorted, so a prefix is a range of its B+tree). List reads that index.
// Scan stays for admin tools, which may walk everything.

// Lister reads the members of a declared kind.
type Lister interface {
	// List calls fn for every live key under the declared kind prefix, in
	// no particular order, until fn returns an error, which List returns.
	// A prefix that is not a declared kind is an error. fn may write to
	// the store; keys written during a List may or may not be visited.
	List(ctx context.Context, prefix string, fn func(key string, val []byte) error) error
	// ListShard is List over one shard of a sharded kind: the keys whose
	// first path segment after the prefix (an account id, say) hashes to
	// shard. Replicas that split shard numbers between them split a sweep.
	ListShard(ctx context.Context, prefix string, shard int, fn func(key string, val []byte) error) error
}

// ListKV is KV with List: what a package asks for that keeps state by key
// and reads a kind of it back on a hot path.
type ListKV interface {
	KV
	Lister
}

// Kind is a declared prefix and the number of shards its index is split in.
type Kind struct {
	Prefix string
	Shards int
}

var kinds struct {
	sync.RWMutex
	list []Kind // sorted by prefix
}

// DeclareKind declares prefix as a kind with an index split in shards
// (1: unsharded) and returns prefix. Call it from a package-level variable
// or init, so that the declaration precedes every write. It panics on an
// empty prefix, one not ending in "/", a shard count below 1, or a prefix
// that contains or is contained in another kind's with different shards:
// those are programming errors, and a key must belong to at most one kind.
func DeclareKind(prefix string, shards int) string {
	if prefix == "" || !strings.HasSuffix(prefix, "/") {
		panic(fmt.Sprintf("store: kind prefix %q must be non-empty and end in /", prefix))
	}
	if shards < 1 {
		panic(fmt.Sprintf("store: kind %q: shards must be at least 1, got %d", prefix, shards))
	}
	kinds.Lock()
	defer kinds.Unlock()
	for _, k := range kinds.list {
		if k.Prefix == prefix && k.Shards == shards {
			return prefix
		}
		if strings.HasPrefix(k.Prefix, prefix) || strings.HasPrefix(prefix, k.Prefix) {
			panic(fmt.Sprintf("store: kind %q overlaps kind %q", prefix, k.Prefix))
		}
	}
	kinds.list = append(kinds.list, Kind{Prefix: prefix, Shards: shards})
	sort.Slice(kinds.list, func(i, j int) bool { return kinds.list[i].Prefix < kinds.list[j].Prefix })
	return prefix
}

// Kinds returns every declared kind, sorted by prefix.
func Kinds() []Kind {
	kinds.RLock()
	defer kinds.RUnlock()
	return append([]Kind(nil), kinds.list...)
}

// KindOf returns the kind key belongs to, if any.
func KindOf(key string) (Kind, bool) {
	kinds.RLock()
	defer kinds.RUnlock()
	// The kinds do not overlap, so at most one prefix matches: the last
	// one sorting at or before key.
	i := sort.Search(len(kinds.list), func(i int) bool { return kinds.list[i].Prefix > key }) - 1
	if i >= 0 && strings.HasPrefix(key, kinds.list[i].Prefix) {
		return kinds.list[i], true
	}
	return Kind{}, false
}

// LookupKind returns the kind declared with exactly prefix, or an error
// naming the prefix: List and ListShard take only declared kinds.
func LookupKind(prefix string) (Kind, error) {
	k, ok := KindOf(prefix)
	if !ok || k.Prefix != prefix {
		return Kind{}, fmt.Errorf("store: %q is not a declared kind (store.DeclareKind)", prefix)
	}
	return k, nil
}

// ShardOf returns the shard of key within kind k: the FNV-1a hash of the
// first path segment after the prefix, modulo the shard count, so that all
// of an account's keys under a kind land in one shard.
func (k Kind) ShardOf(key string) int {
	if k.Shards == 1 {
		return 0
	}
	seg, _, _ := strings.Cut(strings.TrimPrefix(key, k.Prefix), "/")
	h := fnv.New32a()
	h.Write([]byte(seg))
	return int(h.Sum32() % uint32(k.Shards))
}

// LookupShard is LookupKind that also checks shard is one of the kind's,
// what every ListShard starts with.
func LookupShard(prefix string, shard int) (Kind, error) {
	k, err := LookupKind(prefix)
	if err != nil {
		return Kind{}, err
	}
	if shard < 0 || shard >= k.Shards {
		return Kind{}, fmt.Errorf("store: kind %q has shards 0..%d, not %d", k.Prefix, k.Shards-1, shard)
	}
	return k, nil
}

// ListAll is List in terms of ListShard: every shard of the kind in turn.
func ListAll(ctx context.Context, l Lister, prefix string, fn func(key string, val []byte) error) error {
	k, err := LookupKind(prefix)
	if err != nil {
		return err
	}
	for shard := range k.Shards {
		if err := l.ListShard(ctx, prefix, shard, fn); err != nil {
			return err
		}
	}
	return nil
}

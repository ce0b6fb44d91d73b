package embedded

import (
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// fillBatch is how many keys one of Fill's write transactions holds.
const fillBatch = 100_000

// Fill writes n keys named prefix0 … prefix(n-1), each holding val with no
// expiry, in write transactions of 100,000 keys instead of one per key: the
// big keyspace that benchmarks and load tests put beside a component's own
// keys, written in seconds rather than hours.
func (s *Store) Fill(prefix string, n int, val []byte) error {
	enc := s.encode(val, 0)
	for i := 0; i < n; i += fillBatch {
		err := s.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketName)
			for j := i; j < i+fillBatch && j < n; j++ {
				if err := b.Put([]byte(prefix+strconv.Itoa(j)), enc); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("fill %s: keys %d to %d: %w", prefix, i, min(i+fillBatch, n)-1, err)
		}
	}
	return nil
}

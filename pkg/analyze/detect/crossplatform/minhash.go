package crossplatform

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Shingles returns the set of character 2- and 3-grams of the letters and
// digits of s (case folded; spaces and punctuation dropped), the unit of
// comparison for short Chinese posts, where words are not delimited.
func Shingles(s string) map[string]struct{} {
	var rs []rune
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			rs = append(rs, unicode.ToLower(r))
		}
	}
	out := make(map[string]struct{}, 2*len(rs))
	for n := 2; n <= 3; n++ {
		for i := 0; i+n <= len(rs); i++ {
			out[string(rs[i:i+n])] = struct{}{}
		}
	}
	return out
}

// Jaccard is |a ∩ b| / |a ∪ b|, 0 for two empty sets.
func Jaccard(a, b map[string]struct{}) float64 {
	inter := 0
	for k := range a {
		if _, ok := b[k]; ok {
			inter++
		}
	}
	union := len(a) + len(b) - inter
	if union == 0 {
		return 0
	}
	return float64(inter) / float64(union)
}

// NumHashes is the length of a MinHash signature: the estimate's standard
// error is at most 1/(2·√64) = 0.0625.
const NumHashes = 64

// Signature is a MinHash signature: for each of NumHashes hash functions,
// the least hash over a text's shingles.
type Signature [NumHashes]uint32

// coefficients of the hash family h_i(x) = a_i·x + b_i over 64-bit words,
// taking the high 32 bits; drawn once from splitmix64 so that every
// replica and every restart computes the same signatures.
var coefA, coefB = func() (a, b [NumHashes]uint64) {
	s := uint64(0x9e3779b97f4a7c15)
	next := func() uint64 {
		s += 0x9e3779b97f4a7c15
		z := s
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		return z ^ (z >> 31)
	}
	for i := range a {
		a[i] = next() | 1
		b[i] = next()
	}
	return a, b
}()

// MinHash returns the signature of a shingle set. The signature of an empty
// set is all ones and matches nothing but another empty set.
func MinHash(shingles map[string]struct{}) Signature {
	sig := emptySignature()
	for sh := range shingles {
		sig.add(fnv64a(sh))
	}
	return sig
}

// TextSignature is MinHash(Shingles(s)) without building the set: each
// shingle is hashed in place (a shingle seen twice changes no minimum).
func TextSignature(s string) Signature {
	sig := emptySignature()
	var rs [3]rune // the last three kept runes
	n := 0
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			continue
		}
		lr := unicode.ToLower(r)
		rs[0], rs[1], rs[2] = rs[1], rs[2], lr
		n++
		var buf [12]byte
		if n >= 2 {
			w := utf8.EncodeRune(buf[:], rs[1])
			w += utf8.EncodeRune(buf[w:], rs[2])
			sig.add(fnv64aBytes(buf[:w]))
		}
		if n >= 3 {
			w := utf8.EncodeRune(buf[:], rs[0])
			w += utf8.EncodeRune(buf[w:], rs[1])
			w += utf8.EncodeRune(buf[w:], rs[2])
			sig.add(fnv64aBytes(buf[:w]))
		}
	}
	return sig
}

func emptySignature() Signature {
	var sig Signature
	for i := range sig {
		sig[i] = ^uint32(0)
	}
	return sig
}

func (sig *Signature) add(x uint64) {
	for i := range sig {
		if v := uint32((coefA[i]*x + coefB[i]) >> 32); v < sig[i] {
			sig[i] = v
		}
	}
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// fnv64a is FNV-1a, as hash/fnv computes it, without its allocation.
func fnv64a(s string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

func fnv64aBytes(b []byte) uint64 {
	h := uint64(fnvOffset)
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

// Similarity estimates the Jaccard similarity of the sets behind two
// signatures: the share of positions where they agree.
func (s *Signature) Similarity(o *Signature) float64 {
	eq := 0
	for i := range s {
		if s[i] == o[i] {
			eq++
		}
	}
	return float64(eq) / NumHashes
}

// MarshalJSON writes the signature as base64 of its little-endian words:
// a quarter of the size of a JSON array of numbers, and much faster to read.
func (s Signature) MarshalJSON() ([]byte, error) {
	var raw [NumHashes * 4]byte
	for i, v := range s {
		binary.LittleEndian.PutUint32(raw[i*4:], v)
	}
	out := make([]byte, 0, base64.StdEncoding.EncodedLen(len(raw))+2)
	out = append(out, '"')
	out = base64.StdEncoding.AppendEncode(out, raw[:])
	return append(out, '"'), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Signature) UnmarshalJSON(b []byte) error {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("minhash signature: want a base64 string")
	}
	var raw [NumHashes * 4]byte
	n, err := base64.StdEncoding.Decode(raw[:], b[1:len(b)-1])
	if err != nil || n != len(raw) {
		return fmt.Errorf("minhash signature: bad encoding")
	}
	for i := range s {
		s[i] = binary.LittleEndian.Uint32(raw[i*4:])
	}
	return nil
}

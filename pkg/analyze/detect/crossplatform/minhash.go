package crossplatform

import (
	"hash/fnv"
	"unicode"
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
	var sig Signature
	for i := range sig {
		sig[i] = ^uint32(0)
	}
	for sh := range shingles {
		h := fnv.New64a()
		h.Write([]byte(sh))
		x := h.Sum64()
		for i := range sig {
			if v := uint32((coefA[i]*x + coefB[i]) >> 32); v < sig[i] {
				sig[i] = v
			}
		}
	}
	return sig
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

package crossplatform

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestShinglesAndJaccard(t *testing.T) {
	a := Shingles("停水通知")  // 停水 水通 通知 停水通 水通知
	b := Shingles("停水、通告") // 停水 水通 通告 停水通 水通告
	want := []string{"停水", "水通", "通知", "停水通", "水通知"}
	if len(a) != len(want) {
		t.Fatalf("Shingles(停水通知) = %v, want %v", a, want)
	}
	for _, w := range want {
		if _, ok := a[w]; !ok {
			t.Errorf("Shingles(停水通知) lacks %q", w)
		}
	}
	// ∩ = {停水, 水通, 停水通} = 3, ∪ = 5 + 5 − 3 = 7
	if got := Jaccard(a, b); math.Abs(got-3.0/7) > 1e-12 {
		t.Errorf("Jaccard = %v, want 3/7", got)
	}
	if got := Jaccard(Shingles(""), Shingles("")); got != 0 {
		t.Errorf("Jaccard of empty sets = %v, want 0", got)
	}
}

func TestMinHashSimilarity(t *testing.T) {
	// Two sets of 100 distinct shingles sharing 60: Jaccard 60/140.
	a, b := map[string]struct{}{}, map[string]struct{}{}
	for i := range 100 {
		a[fmt.Sprint("s", i)] = struct{}{}
		b[fmt.Sprint("s", i+40)] = struct{}{}
	}
	exact := Jaccard(a, b)
	if math.Abs(exact-60.0/140) > 1e-12 {
		t.Fatalf("Jaccard = %v, want 60/140", exact)
	}
	sa, sb := MinHash(a), MinHash(b)
	// Signatures are deterministic, so the estimate is a fixed number;
	// it must lie within three standard errors of the exact value.
	se := math.Sqrt(exact * (1 - exact) / NumHashes)
	if got := sa.Similarity(&sb); math.Abs(got-exact) > 3*se {
		t.Errorf("MinHash similarity = %v, want %v ± %v", got, exact, 3*se)
	}
	if got := sa.Similarity(&sa); got != 1 {
		t.Errorf("similarity with itself = %v, want 1", got)
	}
	// A one-shingle set: every position is that shingle's hash, so two
	// different single shingles agree nowhere (barring a 2^-32 collision).
	x, y := MinHash(map[string]struct{}{"停水": {}}), MinHash(map[string]struct{}{"停电": {}})
	if got := x.Similarity(&y); got != 0 {
		t.Errorf("similarity of two different single shingles = %v, want 0", got)
	}
	// Near-duplicate posts score high, different posts low.
	p1 := "因管网改造，11月28日8:00至18:00鼓楼区东街一带停水，请居民提前储水。咨询电话0591-87654321。"
	p2 := "因管网改造，11月29日8:00至18:00鼓楼区东街一带停水，请居民提前储水。咨询电话0591-87654321。"
	p3 := strings.Repeat("市政府召开常务会议研究部署冬季安全生产工作", 2)
	s1, s2, s3 := MinHash(Shingles(p1)), MinHash(Shingles(p2)), MinHash(Shingles(p3))
	for _, p := range []string{p1, p2, p3, "", "停", "停水", "Ab，c"} {
		if got, want := TextSignature(p), MinHash(Shingles(p)); got != want {
			t.Errorf("TextSignature(%q) differs from MinHash(Shingles(…))", p)
		}
	}
	if got := s1.Similarity(&s2); got < 0.75 {
		t.Errorf("similarity of versions differing in one date = %v, want ≥ 0.75", got)
	}
	if got := s1.Similarity(&s3); got > 0.1 {
		t.Errorf("similarity of unrelated posts = %v, want ≤ 0.1", got)
	}
}

func TestSignatureJSON(t *testing.T) {
	sig := TextSignature("鼓楼区东街一带停水")
	b, err := json.Marshal(sig)
	if err != nil {
		t.Fatal(err)
	}
	var back Signature
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back != sig {
		t.Errorf("signature did not survive JSON: got %v, want %v", back, sig)
	}
	for _, bad := range []string{`[1,2]`, `"AAAA"`, `"!!"`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("Unmarshal(%s): no error", bad)
		}
	}
}

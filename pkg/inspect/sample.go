package inspect

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Sample picks the accounts of a spot check: ceil(ratio × len(ids)) of ids,
// at least one when there are any, drawn with seed. The same ids (in any
// order), ratio and seed give the same sample on every machine and Go
// version (PCG, sorted input); ratio 1 is the 100% check. The result is
// sorted.
func Sample(ids []string, ratio float64, seed uint64) ([]string, error) {
	if ratio <= 0 || ratio > 1 || math.IsNaN(ratio) {
		return nil, fmt.Errorf("sample ratio %v: want above 0 and at most 1", ratio)
	}
	all := slices.Clone(ids)
	slices.Sort(all)
	all = slices.Compact(all)
	n := int(math.Ceil(ratio * float64(len(all))))
	if n >= len(all) {
		return all, nil
	}
	r := rand.New(rand.NewPCG(seed, 0x676f7677617463)) // "govwatc": a fixed stream
	// A partial Fisher–Yates: the first n places are the sample.
	for i := range n {
		j := i + r.IntN(len(all)-i)
		all[i], all[j] = all[j], all[i]
	}
	out := all[:n]
	slices.Sort(out)
	return out, nil
}

// Recheck compares cur with prev, the previous check's results: a finding
// of an item the previous check failed the same account on is Recurring
// (整改不到位), and the items it failed then and passes now are listed as
// Rectified (已整改). Accounts prev did not check are left as they are.
func Recheck(prev, cur []Result) {
	before := map[string]*Result{}
	for i := range prev {
		before[prev[i].Account.ID] = &prev[i]
	}
	for i := range cur {
		r := &cur[i]
		p, ok := before[r.Account.ID]
		if !ok {
			continue
		}
		for j := range r.Findings {
			r.Findings[j].Recurring = p.Failed(r.Findings[j].Item)
		}
		r.Rectified = nil
		for _, f := range p.Findings {
			if !r.Failed(f.Item) && !slices.Contains(r.Rectified, f.Item) {
				r.Rectified = append(r.Rectified, f.Item)
			}
		}
	}
}

package detecttest

import (
	"fmt"

	"github.com/govwatch/govwatch/pkg/registry"
)

// BenchRegistry returns units units spread over regions regions, each with
// one account on each of platforms: account ids are "<unit>-<platform>",
// unit ids "u<n>".
func BenchRegistry(units, regions int, platforms ...string) *registry.Registry {
	var us []registry.Unit
	var as []registry.Account
	for u := range units {
		id := fmt.Sprintf("u%d", u)
		us = append(us, registry.Unit{ID: id, Name: "单位" + id, Region: fmt.Sprintf("35%02d00", u%regions)})
		for _, p := range platforms {
			as = append(as, registry.Account{ID: id + "-" + p, Name: id + p, Platform: p, Unit: id})
		}
	}
	reg, probs := registry.New(us, as)
	if len(probs) > 0 {
		panic(fmt.Sprint(probs))
	}
	return reg
}

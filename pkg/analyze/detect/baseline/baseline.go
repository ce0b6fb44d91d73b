// Package baseline holds the streaming statistics detectors judge against:
// robust z-scores from the median and the median absolute deviation of a
// bounded history, and exponentially weighted moving averages of mean and
// variance (as SigniTrend keeps them per term). Everything here is plain
// data that marshals to JSON, so a baseline lives in the store.
package baseline

import (
	"math"
	"slices"
)

// MADScale makes the median absolute deviation a consistent estimator of
// the standard deviation for normally distributed data.
const MADScale = 1.4826

// Median returns the median of xs (the mean of the middle two for an even
// count), or 0 for none. xs is not modified.
func Median(xs []float64) float64 {
	n := len(xs)
	if n == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// MAD returns the median of xs and the median absolute deviation from it.
func MAD(xs []float64) (median, mad float64) {
	median = Median(xs)
	dev := make([]float64, len(xs))
	for i, x := range xs {
		dev[i] = math.Abs(x - median)
	}
	return median, Median(dev)
}

// RobustZ returns (x − median) / (1.4826 · MAD) over history, the scale
// floored at minScale so a flat history (MAD = 0) does not make every
// small change infinitely significant.
func RobustZ(x float64, history []float64, minScale float64) (z, median, scale float64) {
	median, mad := MAD(history)
	scale = max(MADScale*mad, minScale)
	if scale == 0 {
		if x == median {
			return 0, median, 0
		}
		return math.Inf(int(math.Copysign(1, x-median))), median, 0
	}
	return (x - median) / scale, median, scale
}

// Push appends x to a history bounded to n values, dropping the oldest.
func Push(history []float64, x float64, n int) []float64 {
	history = append(history, x)
	if len(history) > n {
		history = append(history[:0], history[len(history)-n:]...)
	}
	return history
}

// EWMA is an exponentially weighted moving mean and variance, updated in
// fixed memory (Finch, "Incremental calculation of weighted mean and
// variance", 2009; the update SigniTrend uses).
type EWMA struct {
	Mean float64 `json:"m"`
	Var  float64 `json:"v"`
	N    int     `json:"n"` // observations seen
}

// Add folds x in with weight alpha (0 < alpha ≤ 1). The first observation
// sets the mean.
func (e *EWMA) Add(x, alpha float64) {
	if e.N == 0 {
		e.Mean, e.Var, e.N = x, 0, 1
		return
	}
	d := x - e.Mean
	incr := alpha * d
	e.Mean += incr
	e.Var = (1 - alpha) * (e.Var + d*incr)
	e.N++
}

// AddWarm is Add with a warm-up: while fewer than 1/alpha observations
// have been seen it weighs x by 1/(n+1), so the mean is the plain running
// mean at first instead of leaning on the first observation for a long time.
func (e *EWMA) AddWarm(x, alpha float64) {
	e.Add(x, max(alpha, 1/float64(e.N+1)))
}

// Std is the square root of the variance.
func (e *EWMA) Std() float64 { return math.Sqrt(e.Var) }

// Significance is SigniTrend's score of x against the moving average:
// (x − max(mean, beta)) / (std + beta). beta is a noise floor that keeps
// rare terms (mean near 0) from scoring high on a single occurrence.
func (e *EWMA) Significance(x, beta float64) float64 {
	return (x - max(e.Mean, beta)) / (e.Std() + beta)
}

package baseline

import (
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestMedianAndMAD(t *testing.T) {
	for _, tc := range []struct {
		name     string
		xs       []float64
		med, mad float64
	}{
		{"none", nil, 0, 0},
		{"odd", []float64{1, 1, 2, 2, 4, 6, 9}, 2, 1}, // deviations 1 1 0 0 2 4 7 → median 1
		{"even", []float64{3, 1, 4, 1}, 2, 1},         // sorted 1 1 3 4; deviations 1 1 1 2
		{"one outlier", []float64{10, 10, 10, 10, 1000}, 10, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			med, mad := MAD(tc.xs)
			if !near(med, tc.med) || !near(mad, tc.mad) {
				t.Errorf("MAD(%v) = %v, %v, want %v, %v", tc.xs, med, mad, tc.med, tc.mad)
			}
		})
	}
}

func TestRobustZ(t *testing.T) {
	hist := []float64{1, 1, 2, 2, 4, 6, 9} // median 2, MAD 1
	for _, tc := range []struct {
		name     string
		x, floor float64
		want     float64
	}{
		// (9 − 2) / (1.4826 · 1) = 4.72144914
		{"outlier", 9, 0, 7 / 1.4826},
		{"at median", 2, 0, 0},
		{"below", 0, 0, -2 / 1.4826},
		// the floor wins over 1.4826 when larger: (9 − 2) / 2
		{"floored", 9, 2, 3.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			z, _, _ := RobustZ(tc.x, hist, tc.floor)
			if !near(z, tc.want) {
				t.Errorf("RobustZ(%v) = %v, want %v", tc.x, z, tc.want)
			}
		})
	}
	if z, _, _ := RobustZ(5, []float64{3, 3, 3}, 0); !math.IsInf(z, 1) {
		t.Errorf("RobustZ over a flat history without floor = %v, want +Inf", z)
	}
	if z, _, _ := RobustZ(3, []float64{3, 3, 3}, 0); z != 0 {
		t.Errorf("RobustZ at a flat history's value = %v, want 0", z)
	}
}

func TestEWMA(t *testing.T) {
	// alpha 0.5 over 2, 4, 8, worked by hand:
	//   2: mean 2, var 0
	//   4: d = 2, incr = 1, mean 3, var = 0.5·(0 + 2·1) = 1
	//   8: d = 5, incr = 2.5, mean 5.5, var = 0.5·(1 + 5·2.5) = 6.75
	var e EWMA
	for _, x := range []float64{2, 4, 8} {
		e.Add(x, 0.5)
	}
	if !near(e.Mean, 5.5) || !near(e.Var, 6.75) || e.N != 3 {
		t.Errorf("EWMA = %+v, want mean 5.5, var 6.75, n 3", e)
	}
	// (10 − max(5.5, 1)) / (sqrt(6.75) + 1) = 4.5 / 3.598076211
	if got, want := e.Significance(10, 1), 4.5/(math.Sqrt(6.75)+1); !near(got, want) {
		t.Errorf("Significance = %v, want %v", got, want)
	}
	// A rare term: mean below beta counts as beta.
	rare := EWMA{Mean: 0.01, Var: 0, N: 10}
	if got := rare.Significance(1, 1); got != 0 {
		t.Errorf("Significance of one occurrence against beta 1 = %v, want 0", got)
	}
}

func TestEWMAWarm(t *testing.T) {
	// alpha 0.1 over 1, 0, 0, 0: weights 1, 1/2, 1/3, 1/4 give the running
	// mean 1, 0.5, 1/3, 0.25; plain Add would give 1, 0.9, 0.81, 0.729.
	var warm, plain EWMA
	for _, x := range []float64{1, 0, 0, 0} {
		warm.AddWarm(x, 0.1)
		plain.Add(x, 0.1)
	}
	if !near(warm.Mean, 0.25) {
		t.Errorf("AddWarm mean = %v, want 0.25", warm.Mean)
	}
	if !near(plain.Mean, 0.729) {
		t.Errorf("Add mean = %v, want 0.729", plain.Mean)
	}
	// Past 1/alpha observations the weight is alpha again.
	e := EWMA{Mean: 0.5, N: 20}
	e.AddWarm(1, 0.1)
	if !near(e.Mean, 0.55) {
		t.Errorf("AddWarm after warm-up = %v, want 0.55", e.Mean)
	}
}

func TestPush(t *testing.T) {
	var h []float64
	for i := range 5 {
		h = Push(h, float64(i), 3)
	}
	if len(h) != 3 || h[0] != 2 || h[2] != 4 {
		t.Errorf("Push kept %v, want [2 3 4]", h)
	}
}

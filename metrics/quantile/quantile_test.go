package quantile

import (
	"math"
	"testing"
)

func TestOf(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		q    float64
		want float64
		ok   bool
	}{
		{"an empty set has no quantile", nil, 0.5, 0, false},
		{"one value is every quantile", []float64{7}, 0.95, 7, true},
		// rank 0.5*(4-1) = 1.5: 2 + 0.5*(3-2)
		{"the median of four interpolates between the middle two", []float64{4, 1, 3, 2}, 0.5, 2.5, true},
		// rank 0.85*(4-1) = 2.55: 3 + 0.55*(4-3)
		{"p85 of four interpolates between closest ranks", []float64{1, 2, 3, 4}, 0.85, 3.55, true},
		// rank 0.85*(5-1) = 3.4: 40 + 0.4*(50-40)
		{"p85 of five values", []float64{10, 20, 30, 40, 50}, 0.85, 44, true},
		// rank 0.95*(5-1) = 3.8: 40 + 0.8*(50-40)
		{"p95 of five values", []float64{50, 40, 30, 20, 10}, 0.95, 48, true},
		// rank 0.5*(3-1) = 1: exactly the middle value, no interpolation.
		{"the median of an odd set is its middle value", []float64{9, 1, 5}, 0.5, 5, true},
		{"equal values give that value", []float64{2, 2, 2, 2}, 0.75, 2, true},
		{"p0 is the minimum", []float64{3, 1, 2}, 0, 1, true},
		{"p100 is the maximum", []float64{3, 1, 2}, 1, 3, true},
		{"a quantile above 1 has no value", []float64{1}, 1.5, 0, false},
		{"a negative quantile has no value", []float64{1}, -0.1, 0, false},
		{"a NaN quantile has no value", []float64{1}, math.NaN(), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Of(tt.xs, tt.q)
			if ok != tt.ok || math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("Of(%v, %v) = %v, %v; want %v, %v", tt.xs, tt.q, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestOfSortsInPlace(t *testing.T) {
	xs := []float64{3, 1, 2}
	Of(xs, 0.5)
	if xs[0] != 1 || xs[1] != 2 || xs[2] != 3 {
		t.Errorf("xs = %v after Of, want it sorted", xs)
	}
}

func TestSorted(t *testing.T) {
	sorted := []float64{1, 2, 3, 4}
	tests := []struct {
		name string
		xs   []float64
		q    float64
		want float64
		ok   bool
	}{
		{"the median of sorted values interpolates", sorted, 0.5, 2.5, true},
		// rank 0.95*3 = 2.85: 3 + 0.85*(4-3)
		{"p95 of sorted values", sorted, 0.95, 3.85, true},
		{"p100 is the last value", sorted, 1, 4, true},
		{"an empty set has no quantile", nil, 0.5, 0, false},
		{"a quantile above 1 has no value", sorted, 2, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Sorted(tt.xs, tt.q)
			if ok != tt.ok || math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("Sorted(%v, %v) = %v, %v; want %v, %v", tt.xs, tt.q, got, ok, tt.want, tt.ok)
			}
		})
	}
}

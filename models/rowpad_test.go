package models

import "testing"

func TestRowPadder(t *testing.T) {
	var p RowPadder
	for _, c := range []struct {
		key     string
		n, want int
	}{
		{"a", 4, 4}, // first of its shape: as it is
		{"a", 2, 4}, // shorter: padded to the size run
		{"b", 1, 1}, // another shape is its own
		{"a", 6, 6}, // longer: a new shape once, remembered
		{"a", 5, 6},
		{"b", 3, 3},
		{"b", 1, 3},
	} {
		if got := p.Rows(c.key, c.n); got != c.want {
			t.Errorf("Rows(%q, %d) = %d, want %d", c.key, c.n, got, c.want)
		}
	}
	if s := p.Seen(); len(s) != 2 || s["a"] != 6 || s["b"] != 3 {
		t.Errorf("Seen() = %v", s)
	}
}

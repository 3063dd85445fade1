package models

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

// TestShapeCache: sessions in use are never closed; past the bound the
// least recently used idle ones are, as soon as one is released; a failed
// key keeps its error without a second attempt.
func TestShapeCache(t *testing.T) {
	var closed []string
	c := newShapeCache(func(s string) error { closed = append(closed, s); return nil })
	made := 0
	create := func(k string) func() (string, error) {
		return func() (string, error) { made++; return "s" + k, nil }
	}
	var held []*shapeEntry[string]
	for i := range maxShapeSessions + 2 {
		e, err := c.acquire(fmt.Sprint(i), create(fmt.Sprint(i)))
		if err != nil || e.s != fmt.Sprint("s", i) {
			t.Fatalf("key %d: %v %v", i, e, err)
		}
		held = append(held, e)
	}
	if c.len() != maxShapeSessions+2 || len(closed) != 0 {
		t.Fatalf("all in use: %d kept, closed %v", c.len(), closed)
	}
	// Key 0 used again (now the most recent) and kept in use; as the others
	// are released, the first two released go (the only idle ones then).
	e0, _ := c.acquire("0", create("0"))
	c.release(e0)
	for _, e := range held[1:] {
		c.release(e)
	}
	c.release(held[0])
	if c.len() != maxShapeSessions || !slices.Equal(closed, []string{"s1", "s2"}) || made != maxShapeSessions+2 {
		t.Errorf("after release: %d kept, closed %v, %d made; want %d kept, s1 and s2 closed", c.len(), closed, made, maxShapeSessions)
	}
	// All idle: a new key pushes out the least recently used (3), not 0.
	en, _ := c.acquire("new", create("new"))
	c.release(en)
	if !slices.Equal(closed, []string{"s1", "s2", "s3"}) {
		t.Errorf("closed %v, want s3 next", closed)
	}
	bad := errors.New("no memory")
	for range 2 {
		if _, err := c.acquire("bad", func() (string, error) { made++; return "", bad }); !errors.Is(err, bad) {
			t.Errorf("failing key: %v", err)
		}
	}
	if made != maxShapeSessions+4 {
		t.Errorf("the failing key was tried %d times", made-maxShapeSessions-3)
	}
	if err := c.close(); err != nil || c.len() != 0 {
		t.Errorf("close: %v, %d left", err, c.len())
	}
}

package models

import "sync"

// maxShapeSessions bounds the sessions a Session keeps, one per set of
// input shapes (static shapes, or IO binding with a CUDA graph per shape);
// past it the least recently used idle one is closed. A data set whose
// images all differ in size makes a session per image (each creation costs
// what opening the model does), so per-shape sessions pay where shapes
// repeat: MANIQA's crops, a folder of 512² images. Each session holds its
// own copy of the weights (onnxruntime_go v1.35.0 has no way to share
// initializers between sessions), on a GPU in its memory: up to 8× a
// model's size, 3.6 GB for MANIQA's 450 MB, should its shapes keep
// changing.
const maxShapeSessions = 8

// shapeCache keeps sessions of type S by a key naming the input shapes:
// each made on its key's first use, while runs of other keys go on, and at
// most maxShapeSessions of them, the least recently used idle one closed
// past that. A key whose session failed keeps its error: the same shape
// fails the same way (a graph that cannot take it, memory), so later runs
// get it at once instead of paying for another attempt.
type shapeCache[S any] struct {
	destroy func(S) error // closes a session the cache drops

	mu    sync.Mutex
	byKey map[string]*shapeEntry[S]
	clock uint64
}

type shapeEntry[S any] struct {
	key   string
	ready chan struct{} // closed once s or err is set
	s     S
	ok    bool // s was made
	err   error
	refs  int    // runs using s
	used  uint64 // clock at the last acquire
}

func newShapeCache[S any](destroy func(S) error) *shapeCache[S] {
	return &shapeCache[S]{destroy: destroy, byKey: map[string]*shapeEntry[S]{}}
}

// acquire returns key's session, made by create on the key's first use;
// release it after the run.
func (c *shapeCache[S]) acquire(key string, create func() (S, error)) (*shapeEntry[S], error) {
	c.mu.Lock()
	e := c.byKey[key]
	first := e == nil
	if first {
		e = &shapeEntry[S]{key: key, ready: make(chan struct{})}
		c.byKey[key] = e
	}
	e.refs++
	c.clock++
	e.used = c.clock
	c.mu.Unlock()
	if first {
		s, err := create()
		c.mu.Lock() // release and close read s under the lock
		e.s, e.ok, e.err = s, err == nil, err
		close(e.ready)
		c.mu.Unlock()
	} else {
		<-e.ready
	}
	if e.err != nil {
		c.release(e)
		return nil, e.err
	}
	return e, nil
}

// release ends a run on e's session and closes the least recently used idle
// sessions past maxShapeSessions.
func (c *shapeCache[S]) release(e *shapeEntry[S]) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e.refs--
	for len(c.byKey) > maxShapeSessions {
		var lru *shapeEntry[S]
		for _, x := range c.byKey {
			done := x.ok || x.err != nil
			if x.refs == 0 && done && (lru == nil || x.used < lru.used) {
				lru = x
			}
		}
		if lru == nil {
			return // all in use: closed by a later release
		}
		delete(c.byKey, lru.key)
		if lru.ok {
			c.destroy(lru.s) // an error closing an idle session leaves nothing to do
		}
	}
}

// len is how many sessions (and kept errors) the cache holds.
func (c *shapeCache[S]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byKey)
}

// close drops every session, returning the first error closing one; no
// run may be in flight.
func (c *shapeCache[S]) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var first error
	for k, e := range c.byKey {
		if e.ok {
			if err := c.destroy(e.s); err != nil && first == nil {
				first = err
			}
		}
		delete(c.byKey, k)
	}
	return first
}

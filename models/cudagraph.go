package models

import (
	"runtime"
	"sync"
	"syscall"

	"github.com/addsr-bench/addsr-bench/internal/ortio"
)

// Two facts of ONNX Runtime's CUDA provider shape how a session with
// enable_cuda_graph=1 must be run from Go (onnxruntime's
// cuda_execution_provider.h and cuda_graph.cc):
//
//   - The captured graph, and the count of regular runs before capture,
//     live in a per-thread context of the calling OS thread. Go moves
//     goroutines between threads at every cgo call, so runs of one session
//     would capture a graph on each thread they happened to land on, at
//     unforeseeable times. graphThread runs all of a session's runs on one
//     locked thread.
//   - The capture uses cudaStreamCaptureModeGlobal: while it lasts, an
//     "unsafe" CUDA call from any other thread (an allocation, a
//     synchronous copy: another session's run, a session being created)
//     invalidates it or fails. captureMu keeps the first captureRuns runs
//     of each such session alone on the device: they take it exclusively,
//     every other run and every session creation take it shared.
//
// Neither has been run on a GPU yet (the CPU tests check the thread and the
// exclusion, Device.test's perShapeOnCPU).
var captureMu sync.RWMutex

// captureRuns covers the regular runs before the capture and the capture
// itself: the provider captures after 1 regular run (2 in newer releases).
const captureRuns = 3

// graphThread runs one IO-bound session's runs on one locked OS thread,
// one at a time, counting them.
type graphThread struct {
	mu   sync.Mutex // one run at a time, from the choice of lock to its end
	runs int        // runs done, under mu
	reqs chan func()
	done chan struct{}
	// hook, when a test sets it, sees every run: the OS thread it ran on
	// and whether it had the device alone.
	hook func(s *ortio.Session, tid int, alone bool)
}

func newGraphThread(hook func(s *ortio.Session, tid int, alone bool)) *graphThread {
	t := &graphThread{reqs: make(chan func()), done: make(chan struct{}), hook: hook}
	go func() {
		// Never unlocked: the thread ends with the goroutine, and with it
		// ONNX Runtime's context for it.
		runtime.LockOSThread()
		for f := range t.reqs {
			f()
		}
		close(t.done)
	}()
	return t
}

// run runs s with ins and outs on t's thread, with the device to itself for
// the session's first captureRuns runs.
func (t *graphThread) run(s *ortio.Session, ins, outs []ortio.Tensor) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	alone := t.runs < captureRuns
	if alone {
		captureMu.Lock()
		defer captureMu.Unlock()
	} else {
		captureMu.RLock()
		defer captureMu.RUnlock()
	}
	var err error
	finished := make(chan struct{})
	t.reqs <- func() {
		defer close(finished)
		if t.hook != nil {
			t.hook(s, syscall.Gettid(), alone)
		}
		err = s.Run(ins, outs)
	}
	<-finished
	t.runs++
	return err
}

// stop ends t's thread after the runs in flight.
func (t *graphThread) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	close(t.reqs)
	<-t.done
}

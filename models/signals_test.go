package models

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestSignalHandlersRestored: a library that replaces SIGINT's handler while
// loading (as the CUDA EP does) leaves Go's in place afterwards, so Ctrl-C
// still reaches signal.Notify.
func TestSignalHandlersRestored(t *testing.T) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt)
	defer signal.Stop(ch)
	changed, err := withGoSignalHandlers(func() error {
		clobberSIGINTForTest()
		return nil
	})
	if err != nil || changed != 1 {
		t.Fatalf("changed %d handlers, err %v; want 1", changed, err)
	}
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("SIGINT did not reach Go after the handlers were restored")
	}
}

// TestSignalHandlersRestoredConcurrently: calls overlapping in time (the
// handlers saved once, no lock), each clobbering SIGINT's handler at a
// different moment, leave Go's in place when the last one ends.
func TestSignalHandlersRestoredConcurrently(t *testing.T) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt)
	defer signal.Stop(ch)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			withGoSignalHandlers(func() error {
				time.Sleep(time.Duration(i%3) * time.Millisecond)
				clobberSIGINTForTest()
				time.Sleep(time.Duration(3-i%3) * time.Millisecond)
				return nil
			})
		})
	}
	wg.Wait()
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("SIGINT did not reach Go after concurrent calls restored the handlers")
	}
}

func TestParseDevice(t *testing.T) {
	for in, want := range map[string]Device{"": {Kind: "cpu"}, "cpu": {Kind: "cpu"}, "CUDA": {Kind: "cuda"}, "cuda:1": {Kind: "cuda", Index: 1}, "auto": {Kind: "auto"}} {
		got, err := ParseDevice(in)
		if err != nil || got.Kind != want.Kind || got.Index != want.Index {
			t.Errorf("ParseDevice(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"gpu", "cuda:-1", "cuda:x"} {
		if _, err := ParseDevice(bad); err == nil {
			t.Errorf("ParseDevice(%q) accepted", bad)
		}
	}
}

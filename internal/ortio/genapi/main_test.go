package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestHeaderCurrent regenerates ortapi.h from the onnxruntime_go module in
// use and compares it with the committed one: after a dependency update, run
// `go generate ./internal/ortio`.
func TestHeaderCurrent(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("no gcc")
	}
	dir, err := HeaderDir()
	if err != nil {
		t.Skip(err)
	}
	got, err := Generate(dir)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "ortapi.h"))
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("internal/ortio/ortapi.h is stale: run go generate ./internal/ortio")
	}
}

package metrics

import (
	"errors"
	"strings"
	"testing"
)

func TestRunErrorNamesTheWayOut(t *testing.T) {
	oom := errors.New("Failed to allocate memory for requested buffer of size 123456789")
	err := runError("clipiqa", "cuda:0 (NVIDIA)", []int64{1, 3, 8000, 8000}, oom)
	for _, want := range []string{"clipiqa: out of memory on cuda:0", "[1 3 8000 8000]", "--metric-max-pixels", "requested buffer"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	if !errors.Is(err, oom) {
		t.Error("the runtime's error is not wrapped")
	}
	if err := runError("musiq", "cpu", []int64{1}, errors.New("bad input")); err.Error() != "musiq: bad input" {
		t.Errorf("other errors: %q", err)
	}
}

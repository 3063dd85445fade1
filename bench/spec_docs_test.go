package bench

import (
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/addsr-bench/addsr-bench/runners/addsr"
)

// TestSpecDocs: docs/spec.md's tables list exactly the keys the parser
// knows, section by section, and the top-level keys it documents parse.
func TestSpecDocs(t *testing.T) {
	raw, err := os.ReadFile("../docs/spec.md")
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string][]string{}
	var cur string
	row := regexp.MustCompile("^\\| `([a-z_]+)` \\|")
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "## ") {
			cur = strings.TrimPrefix(line, "## ")
		}
		if m := row.FindStringSubmatch(line); m != nil {
			sections[cur] = append(sections[cur], m[1])
		}
	}
	keys := func(m map[string]any) []string {
		var k []string
		for key := range m {
			k = append(k, key)
		}
		return k
	}
	for _, c := range []struct {
		section string
		want    []string
	}{
		{"Top-level keys", specTopKeys},
		{"Dataset keys", keys(datasetFields(&DatasetSpec{}))},
		{"Method keys", keys(methodFields(&MethodSpec{}))},
		{"AddSR options (`options:` of an `addsr` method)", addsr.SettingKeys},
		{"ONNX Runtime keys (`onnxruntime:`)", keys(ortFields(&ORTSpec{}))},
		{"Report keys (`report:`)", keys(reportFields(&ReportSpec{}))},
	} {
		got, want := slices.Clone(sections[c.section]), slices.Clone(c.want)
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("docs/spec.md section %q documents %v; the code knows %v", c.section, got, want)
		}
	}
}

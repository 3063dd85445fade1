package bench

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/addsr-bench/addsr-bench/datasets"
	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/metrics"
	"github.com/addsr-bench/addsr-bench/reports"
)

// A resumed run whose spec only adds metrics scores the outputs it kept
// with the new metrics, instead of refusing the changed spec: only the
// records that lack them are computed, and the rest of the run is left as
// it was.

// specAddsMetrics returns the metrics cur adds to old when that is their
// only difference (same keys and values elsewhere, every old metric kept).
func specAddsMetrics(old, cur []byte) ([]string, bool) {
	var a, b map[string]any
	if yaml.Unmarshal(old, &a) != nil || yaml.Unmarshal(cur, &b) != nil || a == nil || b == nil {
		return nil, false
	}
	names := func(v any) ([]string, bool) {
		list, ok := v.([]any)
		var out []string
		for _, x := range list {
			s, isStr := x.(string)
			if !isStr {
				return nil, false
			}
			out = append(out, strings.ToLower(s))
		}
		return out, ok
	}
	om, ok1 := names(a["metrics"])
	nm, ok2 := names(b["metrics"])
	if !ok1 || !ok2 {
		return nil, false
	}
	delete(a, "metrics")
	delete(b, "metrics")
	if !reflect.DeepEqual(a, b) {
		return nil, false
	}
	for _, m := range om {
		if !slices.Contains(nm, m) {
			return nil, false
		}
	}
	var added []string
	for _, m := range nm {
		if !slices.Contains(om, m) {
			added = append(added, m)
		}
	}
	return added, len(added) > 0
}

// addsOnlyMetrics reports whether cur is was with metrics added: the same
// method, runner, tool and device, and every metric of was configured as
// before.
func addsOnlyMetrics(was, cur Fingerprint) bool {
	if was.Method != cur.Method || was.Runner != cur.Runner || was.Tool != cur.Tool || was.Device != cur.Device || len(cur.Metrics) <= len(was.Metrics) {
		return false
	}
	for m, fp := range was.Metrics {
		if cur.Metrics[m] != fp {
			return false
		}
	}
	return true
}

// rescore gives the records in up (indices into recs, to their new
// fingerprint hashes) the added metrics, scored on the outputs the run
// kept. A record whose output was not kept is dropped, so that its job runs
// again; failed records keep their error under the new fingerprint. It
// returns the records to keep and how many were rescored.
func rescore(spec *Spec, runDir string, dss []*datasets.Dataset, recs []reports.Record, up map[int]string, added []metrics.Metric, o RunOptions) ([]reports.Record, int) {
	hrOf := map[[2]string]string{}
	for di, d := range spec.Datasets {
		for _, it := range dss[di].Items {
			hrOf[[2]string{d.Name, it.ID}] = it.HR
		}
	}
	type pending struct {
		i    int
		item *scoreItem
	}
	var todo []pending
	var items []*scoreItem
	drop := map[int]bool{}
	for i, fp := range up {
		r := &recs[i]
		r.Fingerprint = fp
		if r.Skipped() {
			continue
		}
		p := filepath.Join(runDir, "outputs", r.Dataset, r.Method, "steps"+strconv.Itoa(r.Steps), r.Image+".png")
		out, err := img.Load(p, o.Decode)
		if os.IsNotExist(err) {
			drop[i] = true // not kept: the method runs again
			continue
		}
		it := &scoreItem{dist: out, vals: map[string]float64{}, err: err, wrap: metricError}
		if hr := hrOf[[2]string{r.Dataset, r.Image}]; hr != "" && it.err == nil {
			it.ref, it.err = img.Load(hr, o.Decode)
		}
		todo = append(todo, pending{i, it})
		items = append(items, it)
	}
	scoreAll(items, added)
	for _, p := range todo {
		r := &recs[p.i]
		if p.item.err != nil {
			r.Error, r.Values = "adding metrics to the kept output: "+p.item.err.Error(), nil
			continue
		}
		if r.Values == nil {
			r.Values = map[string]float64{}
		}
		for k, v := range p.item.vals {
			r.Values[k] = v
		}
	}
	var keep []reports.Record
	for i, r := range recs {
		if !drop[i] {
			keep = append(keep, r)
		}
	}
	return keep, len(todo)
}

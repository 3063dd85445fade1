package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/addsr-bench/addsr-bench/internal/atomicfile"
	"github.com/addsr-bench/addsr-bench/reports"
)

// MergeSummary says what Merge found.
type MergeSummary struct {
	Records    int
	Missing    []Key
	Duplicates []Key
	// MissingShards names the shards of which no run*.json was given, as
	// "i/n" with the file each would have written.
	MissingShards []string
	// Written says the merged run was written: always when complete, with
	// AllowIncomplete otherwise.
	Written bool
}

// MergeOptions: AllowIncomplete writes a merged run that lacks records,
// marked incomplete in its run.json (report says so, check refuses it).
type MergeOptions struct {
	AllowIncomplete bool
	// Overwrite lets the merged run go into a non-empty folder that merge
	// did not make (PrepareOut).
	Overwrite bool
}

// LoadRunMeta reads every run*.json of a run folder.
func LoadRunMeta(dir string) ([]RunMeta, error) {
	files, err := runFiles(dir, "run*.json", "run.json")
	if err != nil {
		return nil, err
	}
	var out []RunMeta
	for _, f := range files {
		m, err := readRunMeta(f)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// Merge combines the records of run folders (shards of one experiment, or a
// run and its resumption elsewhere) into out. It refuses runs of different
// specs and records of one method with different fingerprints, reports
// missing and duplicate records, and writes one records.jsonl sorted by key;
// aggregates are always recomputed from these per-image records.
func Merge(dirs []string, out string, o MergeOptions) (MergeSummary, error) {
	var sum MergeSummary
	var spec []byte
	var metas []RunMeta
	var recs []reports.Record
	for _, d := range dirs {
		s, err := os.ReadFile(filepath.Join(d, "spec.yaml"))
		if err != nil {
			return sum, fmt.Errorf("%s: %w (not a run folder?)", d, err)
		}
		if spec == nil {
			spec = s
		} else if !bytes.Equal(spec, s) {
			return sum, fmt.Errorf("%s was run from a different spec than %s; only runs of one spec merge", d, dirs[0])
		}
		if _, err := os.Stat(filepath.Join(d, ImportsFile)); err == nil {
			return sum, fmt.Errorf("%s has imported scores (%s): merge the shards first, then import into the merged run", d, ImportsFile)
		}
		m, err := LoadRunMeta(d)
		if err != nil {
			return sum, err
		}
		metas = append(metas, m...)
		r, err := ReadRunRecords(d)
		if err != nil {
			return sum, err
		}
		recs = append(recs, r...)
	}
	// One fingerprint per method: shards that ran different code, models or
	// metric settings must not be averaged together.
	fps := map[string]Fingerprint{}
	for _, m := range metas {
		for h, f := range m.Fingerprints {
			fps[h] = f
		}
	}
	byMethod := map[string]string{}
	for _, r := range recs {
		if r.Fingerprint == "" {
			continue
		}
		if prev, ok := byMethod[r.Method]; ok && prev != r.Fingerprint {
			a, b := fps[prev], fps[r.Fingerprint]
			return sum, fmt.Errorf("method %s has records with two fingerprints (%s: %s, %s; %s: %s, %s): refusing to mix them",
				r.Method, prev, a.Runner, a.Tool, r.Fingerprint, b.Runner, b.Tool)
		}
		byMethod[r.Method] = r.Fingerprint
	}
	seen := map[Key]bool{}
	var merged []reports.Record
	for _, r := range recs {
		k := KeyOf(r)
		if seen[k] {
			sum.Duplicates = append(sum.Duplicates, k)
			continue
		}
		seen[k] = true
		merged = append(merged, r)
	}
	// Expected: every image of every dataset × method × step.
	images, steps := map[string][]string{}, map[string][]int{}
	for _, m := range metas {
		for d, ids := range m.Images {
			images[d] = ids
		}
		for meth, st := range m.Steps {
			steps[meth] = st
		}
	}
	for d, ids := range images {
		for _, id := range ids {
			for meth, st := range steps {
				for _, s := range st {
					if k := (Key{d, id, meth, s}); !seen[k] {
						sum.Missing = append(sum.Missing, k)
					}
				}
			}
		}
	}
	sort.Slice(sum.Missing, func(i, j int) bool { return sum.Missing[i].String() < sum.Missing[j].String() })
	sum.Records = len(merged)
	// Shards: every index of each count seen, given or not.
	have := map[Shard]bool{}
	counts := map[int]bool{}
	for _, m := range metas {
		have[m.Shard] = true
		if m.Shard.Count > 1 {
			counts[m.Shard.Count] = true
		}
	}
	for n := range counts {
		for i := range n {
			if s := (Shard{i, n}); !have[s] {
				sum.MissingShards = append(sum.MissingShards, fmt.Sprintf("%d/%d (%s)", i, n, runMetaName(s)))
			}
		}
	}
	sort.Strings(sum.MissingShards)
	if (len(sum.Missing) > 0 || len(sum.MissingShards) > 0) && !o.AllowIncomplete {
		return sum, nil // nothing written: an incomplete merge must not look like a run
	}
	if err := PrepareOut(out, "merge", o.Overwrite); err != nil {
		return sum, err
	}
	if err := atomicfile.WriteBytes(filepath.Join(out, "spec.yaml"), spec); err != nil {
		return sum, err
	}
	meta := metas[0]
	meta.Shard = Shard{}
	meta.Fingerprints = fps
	meta.Images, meta.Steps = images, steps
	meta.IncompleteRecords = len(sum.Missing)
	for _, m := range metas { // the whole run's span, not shard 0's
		if m.Started != "" && m.Started < meta.Started {
			meta.Started = m.Started
		}
		if m.Finished > meta.Finished {
			meta.Finished = m.Finished
		}
	}
	if err := writeJSON(filepath.Join(out, "run.json"), meta); err != nil {
		return sum, err
	}
	if err := writeRecordsFile(filepath.Join(out, "records.jsonl"), merged); err != nil {
		return sum, err
	}
	sum.Written = true
	return sum, nil
}

// readRunMeta reads one run.json (or a shard's run-shard-….json).
func readRunMeta(path string) (RunMeta, error) {
	var m RunMeta
	data, err := os.ReadFile(path)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/addsr-bench/addsr-bench/datasets"
	"github.com/addsr-bench/addsr-bench/internal/atomicfile"
	"github.com/addsr-bench/addsr-bench/internal/img"
	"github.com/addsr-bench/addsr-bench/internal/workpool"
	"github.com/addsr-bench/addsr-bench/metrics"
	"github.com/addsr-bench/addsr-bench/models"
	"github.com/addsr-bench/addsr-bench/reports"
	"github.com/addsr-bench/addsr-bench/runners"
)

// Shard selects a stable subset of images: image (dataset, id) belongs to
// shard FNV-1a(dataset/id) mod Count. Count ≤ 1 means the whole run.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// ParseShard reads "i/n".
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("--shard %q: want i/n with 0 ≤ i < n", s)
	}
	return Shard{i, n}, nil
}

// ShardFromEnv reads a scheduler's array index: a Kubernetes Indexed Job's
// JOB_COMPLETION_INDEX (with the count given, as Kubernetes does not export
// it), or Slurm's SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN and
// SLURM_ARRAY_TASK_COUNT. ok is false outside a scheduler.
func ShardFromEnv(count int) (s Shard, ok bool, err error) {
	get := func(k string) (int, bool, error) {
		v, present := os.LookupEnv(k)
		if !present {
			return 0, false, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, true, fmt.Errorf("%s=%q is not an integer", k, v)
		}
		return n, true, nil
	}
	if i, present, err := get("JOB_COMPLETION_INDEX"); present || err != nil {
		if err != nil {
			return Shard{}, false, err
		}
		if count < 1 {
			return Shard{}, false, fmt.Errorf("JOB_COMPLETION_INDEX=%d is set: pass --shards N (the Job's completions)", i)
		}
		if i >= count {
			return Shard{}, false, fmt.Errorf("JOB_COMPLETION_INDEX=%d is not below --shards %d", i, count)
		}
		return Shard{i, count}, true, nil
	}
	// Slurm: --shards N is the number of shards and the task ID the shard
	// (the array 0..N−1). The array's own count says nothing reliable:
	// resubmitting one task (sbatch --array=3) makes it 1, which once ran
	// the whole experiment in that task.
	if id, present, err := get("SLURM_ARRAY_TASK_ID"); present || err != nil {
		if err != nil {
			return Shard{}, false, err
		}
		if count < 1 {
			return Shard{}, false, fmt.Errorf("SLURM_ARRAY_TASK_ID=%d is set: pass --shards N, the number of shards (the array is 0-(N-1); docs/slurm-array.sh does)", id)
		}
		if id < 0 || id >= count {
			return Shard{}, false, fmt.Errorf("Slurm array task %d is not a shard of --shards %d: submit the array as --array=0-%d (one task: --array=I with I below %d)", id, count, count-1, count)
		}
		if hi, has, err := get("SLURM_ARRAY_TASK_MAX"); err != nil {
			return Shard{}, false, err
		} else if has && hi >= count {
			return Shard{}, false, fmt.Errorf("the Slurm array goes up to task %d, but --shards %d: make them agree (--array=0-%d)", hi, count, count-1)
		}
		return Shard{id, count}, true, nil
	}
	return Shard{}, false, nil
}

// Owns reports whether the image belongs to this shard.
func (s Shard) Owns(dataset, id string) bool {
	if s.Count <= 1 {
		return true
	}
	h := fnv.New64a()
	h.Write([]byte(dataset + "/" + id))
	return int(h.Sum64()%uint64(s.Count)) == s.Index
}

// RunMeta is run.json: what produced a run's records.
type RunMeta struct {
	Tool       string `json:"tool"`
	SpecSHA256 string `json:"spec_sha256"`
	// SpecDir anchors the spec's relative paths (datasets, outputs). It is
	// stored relative to the run folder, so a run moved together with its
	// data still finds it.
	SpecDir   string `json:"spec_dir"`
	Shard     Shard  `json:"shard"`
	Device    string `json:"device"`
	GoVersion string `json:"go"`
	Started   string `json:"started"`
	Finished  string `json:"finished,omitempty"`
	// Fingerprints maps a record's fingerprint hash to what it stands for.
	Fingerprints map[string]Fingerprint `json:"fingerprints"`
	// Images lists every dataset's image ids (all shards), so a merge can
	// tell what is missing.
	Images map[string][]string `json:"images"`
	// Steps lists each method's step counts (0: single output).
	Steps map[string][]int `json:"steps"`
	// IncompleteRecords, in a merged run written with --allow-incomplete,
	// counts the records it lacks: report says so and check refuses it.
	IncompleteRecords int `json:"incomplete_records,omitempty"`
}

// Fingerprint spells out one record fingerprint.
type Fingerprint struct {
	Method  string            `json:"method"`
	Runner  string            `json:"runner"`
	Metrics map[string]string `json:"metrics"`
	Tool    string            `json:"tool"`
	Device  string            `json:"device"`
}

// Hash is the short hash records carry.
func (f Fingerprint) Hash() string {
	b, _ := json.Marshal(f)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// RunOptions controls Run.
type RunOptions struct {
	Out     string
	Resume  bool
	Shard   Shard
	Workers int
	Decode  img.DecodeOptions
	// Progress, when set, is told the number of jobs and returns a function
	// called after each with the job's stage ("dataset/method").
	Progress func(total int) func(stage string)
	// Notes, when set, gets what a method's or learned metric's placement
	// says about itself before the jobs start ("method NAME", "metric
	// NAME"), such as auto's fall back to the CPU or provider options that
	// do nothing there.
	Notes func(who, note string)
	// Overwrite lets a new run go into a non-empty folder that is not a
	// run folder (PrepareOut).
	Overwrite bool
	// ORT overrides the spec's onnxruntime: block (the flags of run).
	ORT ORTSpec
	// BeforeJob, when set, is called before each job: a test hook (the
	// kill-and-resume test slows jobs down to kill a run mid-way).
	BeforeJob func()
}

// RunSummary says what a run did.
type RunSummary struct {
	Dir         string
	RecordsFile string
	Jobs        int // jobs this invocation ran
	Resumed     int // jobs found already recorded
	Failed      int // records with an error
	// Rescored are records given metrics the spec added, on kept outputs.
	Rescored int
	// Added are the metrics a resumed run added to its spec.
	Added []string
}

// Run executes the spec into o.Out: for each dataset image owned by the
// shard and each method, run the method, score every output and append the
// records. With Resume, jobs already recorded are skipped and a torn last
// line is recovered; a run is never duplicated or silently overwritten.
func Run(ctx context.Context, spec *Spec, o RunOptions) (RunSummary, error) {
	sum := RunSummary{Dir: o.Out, RecordsFile: filepath.Join(o.Out, RecordsFileName(o.Shard))}
	dss, err := spec.OpenDatasets()
	if err != nil {
		return sum, err
	}
	mdev, err := models.ParseDevice(spec.MetricDevice)
	if err != nil {
		return sum, err
	}
	mdev.Threads = CPUThreads(mdev, o.Workers)
	spec.ORT.Apply(&mdev)
	o.ORT.Apply(&mdev)
	var ms []metrics.Metric
	defer func() { metrics.Close(ms) }()
	for _, m := range spec.Metrics {
		mm, err := metrics.New(m.Name, metrics.Config{CropBorder: spec.CropBorder, Models: spec.Resolve(spec.MetricModels), Device: mdev,
			Concurrency: workpool.Workers(o.Workers)})
		if err != nil {
			return sum, err
		}
		ms = append(ms, mm)
	}
	var loadErrs []error // every metric's, at its line, as ParseSpec reports
	for i, l := range metrics.LoadAll(ms) {
		if l.Err != nil {
			loadErrs = append(loadErrs, SpecError{spec.File, spec.Metrics[i].Line, l.Err.Error()})
		}
		if l.Note != "" && o.Notes != nil {
			o.Notes("metric "+spec.Metrics[i].Name, l.Note)
		}
	}
	if len(loadErrs) > 0 {
		return sum, errors.Join(loadErrs...)
	}
	added, err := prepareRunDir(spec, o)
	if err != nil {
		return sum, err
	}
	sum.Added = added

	meta := RunMeta{
		Tool: "addsr-bench " + Version, SpecSHA256: spec.Hash(), SpecDir: relPath(o.Out, spec.Dir), Shard: o.Shard, Device: "cpu",
		GoVersion: runtime.Version(), Started: time.Now().UTC().Format(time.RFC3339),
		Fingerprints: map[string]Fingerprint{}, Images: map[string][]string{}, Steps: map[string][]int{},
	}
	metricFP := map[string]string{}
	for _, m := range ms {
		metricFP[m.Name()] = m.Fingerprint()
	}
	type methodRun struct {
		spec MethodSpec
		r    runners.Runner
		fp   string
	}
	opened := newMethodRunners(spec, o.ORT) // the run's sessions, closed when it ends
	defer opened.close()
	runs := make([][]methodRun, len(dss)) // [dataset][method]
	for di, d := range spec.Datasets {
		for _, id := range itemIDs(dss[di]) {
			meta.Images[d.Name] = append(meta.Images[d.Name], id)
		}
		for _, m := range spec.Methods {
			r, err := opened.runner(m, d.Name, o.Workers)
			if err != nil {
				return sum, SpecError{spec.File, m.Line, err.Error()}
			}
			dev := "cpu"
			if pl, ok := r.(interface{ Placement() models.Placement }); ok {
				p := pl.Placement()
				dev = p.Device
				meta.Device = dev
				if p.Note != "" && o.Notes != nil && di == 0 {
					o.Notes("method "+m.Name, p.Note)
				}
			}
			runnerFP := r.Fingerprint()
			if m.BatchImages > 1 {
				// A GPU may pick other kernels for another batch size: the
				// last bits of the outputs can differ.
				runnerFP += fmt.Sprintf(";batch-images=%d", m.BatchImages)
			}
			fp := Fingerprint{Method: m.Name, Runner: runnerFP, Metrics: metricFP, Tool: meta.Tool, Device: dev}
			meta.Fingerprints[fp.Hash()] = fp
			runs[di] = append(runs[di], methodRun{m, r, fp.Hash()})
			meta.Steps[m.Name] = stepsOrZero(m.Steps)
		}
	}
	metaPath := filepath.Join(o.Out, runMetaName(o.Shard))

	// What is already recorded (resume), after cutting off a torn line.
	// Records made with another fingerprint (other outputs, weights,
	// options, metric configuration) are refused, as merge refuses them:
	// one method's means must not mix two versions of it.
	// A spec that only adds metrics: records of the earlier fingerprints
	// get the new metrics on their kept outputs (rescore).
	done := map[Key]bool{}
	if _, err := os.Stat(sum.RecordsFile); err == nil {
		recs, torn, err := ReadRecords(sum.RecordsFile, true)
		if err != nil {
			return sum, err
		}
		_ = torn
		current := map[[2]string]string{}
		for di, d := range spec.Datasets {
			for _, mr := range runs[di] {
				current[[2]string{d.Name, mr.spec.Name}] = mr.fp
			}
		}
		prev, prevErr := readRunMeta(metaPath) // what the earlier fingerprints were
		up := map[int]string{}
		addedMetrics := map[string]bool{}
		for i, r := range recs {
			if want, ok := current[[2]string{r.Dataset, r.Method}]; ok && r.Fingerprint != "" && r.Fingerprint != want {
				// (The spec copy may already list the added metrics: another
				// shard in this folder resumed first.)
				was, known := prev.Fingerprints[r.Fingerprint]
				if cur := meta.Fingerprints[want]; known && addsOnlyMetrics(was, cur) {
					up[i] = want
					for m := range cur.Metrics {
						if _, had := was.Metrics[m]; !had {
							addedMetrics[m] = true
						}
					}
					continue
				}
				return sum, fmt.Errorf("%s: %s's records on %s were made with fingerprint %s, this run's is %s (%s); resume into a new --out, or delete the run folder to start again",
					sum.RecordsFile, r.Method, r.Dataset, r.Fingerprint, want, fingerprintChange(prev, prevErr, r.Fingerprint, meta.Fingerprints[want]))
			}
		}
		if len(up) > 0 {
			var added []metrics.Metric
			for _, m := range ms {
				if addedMetrics[m.Name()] {
					added = append(added, m)
				}
			}
			recs, sum.Rescored = rescore(spec, o.Out, dss, recs, up, added, o)
			if err := writeRecordsFile(sum.RecordsFile, recs); err != nil {
				return sum, err
			}
		}
		for _, r := range recs {
			done[KeyOf(r)] = true
		}
	}
	if len(added) > 0 { // the records now match the spec that adds them
		if err := atomicfile.WriteBytes(filepath.Join(o.Out, "spec.yaml"), spec.Raw); err != nil {
			return sum, err
		}
	}
	if err := writeJSON(metaPath, meta); err != nil {
		return sum, err
	}
	app, err := openAppender(sum.RecordsFile)
	if err != nil {
		return sum, err
	}
	defer app.Close()

	// A job is one method on one image, or on up to batch_images images of
	// a dataset for methods that batch; its records are appended together.
	type job struct {
		di, mi int
		items  []datasets.Item
	}
	var jobs []job
	for di, ds := range dss {
		name := spec.Datasets[di].Name
		pending := make([][]datasets.Item, len(runs[di]))
		// A method that batches takes the images in order of LR size, so
		// that its batches hold one size and share inferences.
		batched := false
		for _, mr := range runs[di] {
			batched = batched || mr.spec.BatchImages > 1
		}
		items := ds.Items
		if batched {
			items = bySize(items, func(it datasets.Item) string { return it.LR })
		}
		for _, it := range items {
			if !o.Shard.Owns(name, it.ID) {
				continue
			}
			for mi, mr := range runs[di] {
				complete := true
				for _, st := range stepsOrZero(mr.spec.Steps) {
					if !done[Key{name, it.ID, mr.spec.Name, st}] {
						complete = false
					}
				}
				if complete {
					sum.Resumed++
					continue
				}
				pending[mi] = append(pending[mi], it)
				if len(pending[mi]) >= max(mr.spec.BatchImages, 1) {
					jobs = append(jobs, job{di, mi, pending[mi]})
					pending[mi] = nil
				}
			}
		}
		for mi, items := range pending {
			if len(items) > 0 {
				jobs = append(jobs, job{di, mi, items})
			}
		}
	}
	step := func(string) {}
	if o.Progress != nil {
		step = o.Progress(len(jobs))
	}
	var mu sync.Mutex
	var writeErrs []error
	werr := workpool.Run(ctx, len(jobs), o.Workers, func(i int) {
		j := jobs[i]
		dname := spec.Datasets[j.di].Name
		mr := runs[j.di][j.mi]
		recs := runJob(ctx, spec, dname, j.items, mr.spec, mr.r, mr.fp, ms, o)
		// Only keys not yet recorded: a job cut short by a kill may have
		// left some of its steps on disk.
		var fresh []reports.Record
		for _, r := range recs {
			if !done[KeyOf(r)] {
				fresh = append(fresh, r)
			}
		}
		if o.BeforeJob != nil {
			o.BeforeJob()
		}
		if ctx.Err() != nil {
			return // interrupted: record nothing half-done
		}
		err := app.write(fresh)
		mu.Lock()
		if err != nil {
			writeErrs = append(writeErrs, err)
		}
		sum.Jobs += len(j.items)
		for _, r := range fresh {
			if r.Skipped() {
				sum.Failed++
			}
		}
		mu.Unlock()
		for range j.items {
			step(dname + "/" + mr.spec.Name)
		}
	})
	if err := errors.Join(append([]error{werr}, writeErrs...)...); err != nil {
		return sum, err
	}
	meta.Finished = time.Now().UTC().Format(time.RFC3339)
	return sum, writeJSON(metaPath, meta)
}

// relPath is target relative to base when both resolve, else target absolute.
func relPath(base, target string) string {
	ab, err1 := filepath.Abs(base)
	at, err2 := filepath.Abs(target)
	if err1 != nil || err2 != nil {
		return target
	}
	if r, err := filepath.Rel(ab, at); err == nil {
		return r
	}
	return at
}

func itemIDs(d *datasets.Dataset) []string {
	var ids []string
	for _, it := range d.Items {
		ids = append(ids, it.ID)
	}
	return ids
}

func runMetaName(s Shard) string {
	if s.Count <= 1 {
		return "run.json"
	}
	return fmt.Sprintf("run-shard-%03d-of-%03d.json", s.Index, s.Count)
}

// prepareRunDir creates the run folder, or checks that a resumed one was
// started from the same spec, or from one that lacks only metrics this one
// adds (returned; the run writes the new spec once its records have them).
func prepareRunDir(spec *Spec, o RunOptions) ([]string, error) {
	if o.Out == "" {
		return nil, errors.New("no run folder given (--out)")
	}
	specCopy := filepath.Join(o.Out, "spec.yaml")
	recs := filepath.Join(o.Out, RecordsFileName(o.Shard))
	if old, err := os.ReadFile(specCopy); err == nil {
		var added []string
		if !bytes.Equal(old, spec.Raw) {
			var ok bool
			added, ok = specAddsMetrics(old, spec.Raw)
			switch {
			case !ok:
				return nil, fmt.Errorf("%s was started from a different spec (%s differs from %s); use a new --out (a spec that only adds metrics resumes)", o.Out, specCopy, spec.File)
			case !o.Resume:
				return nil, fmt.Errorf("%s was started from a spec without %s; pass --resume to score them on the kept outputs", o.Out, strings.Join(added, ", "))
			}
		}
		if st, err := os.Stat(recs); err == nil && st.Size() > 0 && !o.Resume {
			return nil, fmt.Errorf("%s already has records (%s); pass --resume to continue it, or use a new --out", o.Out, filepath.Base(recs))
		}
		return added, nil
	}
	if err := PrepareOut(o.Out, "run", o.Overwrite); err != nil {
		return nil, err
	}
	return nil, atomicfile.WriteBytes(specCopy, spec.Raw)
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, append(data, '\n'))
}

// runJob runs one method on its images (several share inferences when the
// runner batches) and scores every output. Failures become records with
// Error set, one per expected step, so a resumed run does not retry them
// and a report shows them; when a whole batch fails, its images are run one
// at a time so that each gets its own result or error.
func runJob(ctx context.Context, spec *Spec, dataset string, items []datasets.Item, m MethodSpec, r runners.Runner, fp string, ms []metrics.Metric, o RunOptions) []reports.Record {
	fail := func(it datasets.Item, err error) []reports.Record {
		var out []reports.Record
		for _, st := range stepsOrZero(m.Steps) {
			out = append(out, reports.Record{Dataset: dataset, Image: it.ID, Method: m.Name, Steps: st, Fingerprint: fp, Error: err.Error()})
		}
		return out
	}
	var out []reports.Record
	var ok []datasets.Item
	var ins []runners.Input
	var hrs []*img.Image
	free, _ := r.(runners.LRFree)
	for _, it := range items {
		lr, err := img.Load(it.LR, o.Decode)
		if err != nil && free != nil && !free.NeedsLR() {
			lr, err = nil, nil // a corrupt LR fails only the methods that read it
		}
		var hr *img.Image
		if err == nil && it.HR != "" {
			hr, err = img.Load(it.HR, o.Decode)
		}
		if err != nil {
			out = append(out, fail(it, err)...)
			continue
		}
		ok = append(ok, it)
		ins = append(ins, runners.Input{ID: it.ID, Dataset: dataset, LR: lr})
		hrs = append(hrs, hr)
	}
	if len(ins) == 0 {
		return out
	}
	res, errs := runners.RunEach(ctx, r, ins)
	// One record per image and output; the outputs of all the job's images
	// are scored together, so that learned metrics can stack them.
	type scored struct {
		rec  reports.Record
		item *scoreItem // nil when the output could not be saved
	}
	var recs []scored
	var toScore []*scoreItem
	for i, it := range ok {
		if errs[i] != nil {
			out = append(out, fail(it, errs[i])...)
			continue
		}
		for _, rec := range outputRecords(spec, dataset, it, m, fp, o, res[i]) {
			s := scored{rec: rec.Record}
			if rec.err == nil {
				s.item = &scoreItem{dist: rec.sr, ref: hrs[i], vals: map[string]float64{},
					wrap: metricError}
				toScore = append(toScore, s.item)
			} else {
				s.rec.Error = rec.err.Error()
			}
			recs = append(recs, s)
		}
	}
	scoreAll(toScore, ms)
	for _, s := range recs {
		if s.item != nil {
			if s.item.err != nil {
				s.rec.Error = s.item.err.Error()
			} else {
				s.rec.Values = s.item.vals
			}
		}
		out = append(out, s.rec)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Image != out[j].Image {
			return out[i].Image < out[j].Image
		}
		return out[i].Steps < out[j].Steps
	})
	return out
}

// metricError names the metric in a scoring error of an SR output.
func metricError(m metrics.Metric, err error) error { return fmt.Errorf("%s: %v", m.Name(), err) }

// outputRecord is one output of an image: its record (values to come), the
// 8-bit output to score, or the error that kept it from being saved.
type outputRecord struct {
	reports.Record
	sr  *img.Image
	err error
}

// outputRecords makes one record per output of an image's result, saving
// the outputs when the spec keeps them.
func outputRecords(spec *Spec, dataset string, it datasets.Item, m MethodSpec, fp string, o RunOptions, res runners.Result) []outputRecord {
	timings := map[string]float64{}
	for _, s := range res.Stages {
		timings[s.Name] += float64(s.Duration.Microseconds()) / 1000
	}
	timings["total"] = float64(res.Total().Microseconds()) / 1000
	batch := 0
	if res.Batch > 1 {
		batch = res.Batch
	}
	var out []outputRecord
	for _, op := range res.Outputs {
		if op.Err != nil {
			out = append(out, outputRecord{Record: reports.Record{Dataset: dataset, Image: it.ID, Method: m.Name, Steps: op.Steps, Fingerprint: fp, Error: op.Err.Error()}, err: op.Err})
			continue
		}
		ts := timings
		if op.Stages != nil && len(op.Stages) == 0 {
			ts = nil // not measured (a folder method without timings)
		} else if op.Stages != nil { // this output's own times: a step-wise runner's cumulative ones
			ts = map[string]float64{}
			var total time.Duration
			for _, s := range op.Stages {
				ts[s.Name] += float64(s.Duration.Microseconds()) / 1000
				total += s.Duration
			}
			ts["total"] = float64(total.Microseconds()) / 1000
		}
		r := outputRecord{Record: reports.Record{Dataset: dataset, Image: it.ID, Method: m.Name, Steps: op.Steps, Fingerprint: fp, TimingsMS: ts, Batch: batch, Prompt: op.Prompt},
			sr: op.Image.Quantized()}
		if spec.KeepOutputs {
			dir := filepath.Join(o.Out, "outputs", dataset, m.Name, "steps"+strconv.Itoa(op.Steps))
			r.err = os.MkdirAll(dir, 0o755)
			if r.err == nil {
				r.err = r.sr.SavePNG(filepath.Join(dir, it.ID+".png"))
			}
		}
		out = append(out, r)
	}
	return out
}

// fingerprintChange says what differs between the fingerprint hash old (as
// the run folder's earlier run.json, prev, spells it out) and cur; prevErr
// is the error reading it.
func fingerprintChange(prev RunMeta, prevErr error, old string, cur Fingerprint) string {
	if prevErr != nil {
		return "the earlier run.json is unreadable"
	}
	was, ok := prev.Fingerprints[old]
	if !ok {
		return "the earlier run.json does not spell it out"
	}
	var diff []string
	if was.Runner != cur.Runner {
		diff = append(diff, fmt.Sprintf("runner %q → %q", was.Runner, cur.Runner))
	}
	for _, m := range sortedKeysOf(cur.Metrics) {
		if was.Metrics[m] != cur.Metrics[m] {
			diff = append(diff, fmt.Sprintf("metric %s %q → %q", m, was.Metrics[m], cur.Metrics[m]))
		}
	}
	if was.Tool != cur.Tool {
		diff = append(diff, fmt.Sprintf("tool %s → %s", was.Tool, cur.Tool))
	}
	if was.Device != cur.Device {
		diff = append(diff, fmt.Sprintf("device %s → %s", was.Device, cur.Device))
	}
	if len(diff) == 0 {
		return "same settings, other hash"
	}
	return strings.Join(diff, "; ")
}

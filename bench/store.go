package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"

	"github.com/addsr-bench/addsr-bench/internal/atomicfile"
	"github.com/addsr-bench/addsr-bench/reports"
)

// Records live in JSONL files, one object per line, appended and fsynced one
// job at a time. A process killed mid-write leaves at most a torn last line,
// which Recover cuts off; nothing before it is ever rewritten.

// Key identifies a record.
type Key struct {
	Dataset, Image, Method string
	Steps                  int
}

func (k Key) String() string {
	return fmt.Sprintf("%s/%s/%s/steps=%d", k.Dataset, k.Image, k.Method, k.Steps)
}

// KeyOf returns a record's key.
func KeyOf(r reports.Record) Key { return Key{r.Dataset, r.Image, r.Method, r.Steps} }

// RecordsFileName is records.jsonl, or records-shard-I-of-N.jsonl for shards.
func RecordsFileName(s Shard) string {
	if s.Count <= 1 {
		return "records.jsonl"
	}
	return fmt.Sprintf("records-shard-%03d-of-%03d.jsonl", s.Index, s.Count)
}

// ReadRecords parses a JSONL file. With recover set, a torn last line (no
// newline at the end) is cut off the file and reported; without it the file
// is not touched and the torn line is ignored. A malformed complete line is
// an error naming the file and line.
func ReadRecords(path string, recover bool) (recs []reports.Record, torn bool, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, false, err
	}
	if n := len(data); n > 0 && data[n-1] != '\n' {
		cut := bytes.LastIndexByte(data, '\n') + 1
		data, torn = data[:cut], true
		if recover {
			if err := os.Truncate(path, int64(cut)); err != nil {
				return nil, true, err
			}
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	line := 0
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var r reports.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, torn, fmt.Errorf("%s:%d: not a record: %v", path, line, err)
		}
		recs = append(recs, r)
	}
	return recs, torn, sc.Err()
}

// runFiles lists the files of a run folder matching pattern, sorted; a folder
// without any is not a run folder, and the error says so naming want.
func runFiles(dir, pattern, want string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s has no %s: is it a run folder?", dir, want)
	}
	sort.Strings(files)
	return files, nil
}

// ReadRunRecords reads every records*.jsonl file of a run folder, read-only,
// in reports.CompareRecords order.
func ReadRunRecords(dir string) ([]reports.Record, error) {
	files, err := runFiles(dir, "records*.jsonl", "records*.jsonl")
	if err != nil {
		return nil, err
	}
	var all []reports.Record
	for _, f := range files {
		recs, _, err := ReadRecords(f, false)
		if err != nil {
			return nil, err
		}
		all = append(all, recs...)
	}
	// Files list records in the order workers finished them; readers get
	// them in one order, so that reports and records.json are the same for
	// the same results.
	slices.SortStableFunc(all, reports.CompareRecords)
	return all, nil
}

// appender appends records to a JSONL file durably.
type appender struct {
	mu sync.Mutex
	f  *os.File
}

func openAppender(path string) (*appender, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &appender{f: f}, nil
}

// write appends recs in one write and fsyncs.
func (a *appender) write(recs []reports.Record) error {
	data, err := encodeRecords(recs)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.f.Write(data); err != nil {
		return err
	}
	return a.f.Sync()
}

func (a *appender) Close() error { return a.f.Close() }

// writeRecordsFile writes recs in reports.CompareRecords order into path
// atomically.
func writeRecordsFile(path string, recs []reports.Record) error {
	slices.SortStableFunc(recs, reports.CompareRecords)
	data, err := encodeRecords(recs)
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, data)
}

// encodeRecords is recs as JSON Lines.
func encodeRecords(recs []reports.Record) ([]byte, error) {
	var b bytes.Buffer
	for _, r := range recs {
		line, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

package fleet

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"text/tabwriter"
)

// Results are the calls and summary lines of one or more result files.
type Results struct {
	Calls   []Call
	Seconds []Second
	URLs    []URL
}

// maxLine bounds one JSON line of a result file.
const maxLine = 1 << 20

// ReadResults reads one results file (JSON lines) and adds it to r.
func (r *Results) Read(rd io.Reader, name string) error {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 64*1024), maxLine)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		var head struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(line, &head); err != nil {
			return fmt.Errorf("%s:%d: %v", name, n, err)
		}
		switch head.Type {
		case "call":
			var c Call
			if err := json.Unmarshal(line, &c); err != nil {
				return fmt.Errorf("%s:%d: %v", name, n, err)
			}
			r.Calls = append(r.Calls, c)
		case "second":
			var s Second
			if err := json.Unmarshal(line, &s); err != nil {
				return fmt.Errorf("%s:%d: %v", name, n, err)
			}
			r.Seconds = append(r.Seconds, s)
		case "url":
			var u URL
			if err := json.Unmarshal(line, &u); err != nil {
				return fmt.Errorf("%s:%d: %v", name, n, err)
			}
			r.URLs = append(r.URLs, u)
		default:
			return fmt.Errorf("%s:%d: unknown line type %q", name, n, head.Type)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	return nil
}

// ReadFiles merges result files.
func ReadFiles(paths []string) (*Results, error) {
	r := &Results{}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		err = r.Read(f, p)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Row is one line of the merged table: a shard, or "all".
type Row struct {
	Shard              string
	Phones, Registered int // at the last summary line
	Attempted          int
	Answered           int
	Failed             map[string]int
	SetupP50, SetupP99 float64
	URLs, URLFailed    int // Action URLs sent, and of them failed
	URLP50, URLP99     float64
}

// Table merges the results into one row per shard and a total row.
func (r *Results) Table() []Row {
	byShard := map[int]*Row{}
	setups := map[int][]float64{}
	row := func(s int) *Row {
		if byShard[s] == nil {
			byShard[s] = &Row{Shard: strconv.Itoa(s), Failed: map[string]int{}}
		}
		return byShard[s]
	}
	last := map[int]int64{}
	for _, s := range r.Seconds {
		rw := row(s.Shard)
		if s.T >= last[s.Shard] {
			last[s.Shard] = s.T
			rw.Phones, rw.Registered = s.Phones, s.Registered
		}
	}
	all := &Row{Shard: "all", Failed: map[string]int{}}
	var allSetups []float64
	for _, c := range r.Calls {
		rw := row(c.Shard)
		cause := c.Cause()
		if cause == "stopped" {
			continue
		}
		rw.Attempted++
		all.Attempted++
		if cause == "answered" {
			rw.Answered++
			all.Answered++
			setups[c.Shard] = append(setups[c.Shard], float64(c.SetupMS))
			allSetups = append(allSetups, float64(c.SetupMS))
		} else {
			rw.Failed[cause]++
			all.Failed[cause]++
		}
	}
	latencies := map[int][]float64{}
	var allLatencies []float64
	for _, u := range r.URLs {
		rw := row(u.Shard)
		rw.URLs++
		all.URLs++
		if !u.OK {
			rw.URLFailed++
			all.URLFailed++
		}
		latencies[u.Shard] = append(latencies[u.Shard], u.Latency)
		allLatencies = append(allLatencies, u.Latency)
	}
	var shards []int
	for s := range byShard {
		shards = append(shards, s)
	}
	sort.Ints(shards)
	var rows []Row
	for _, s := range shards {
		rw := byShard[s]
		rw.SetupP50, rw.SetupP99 = Percentile(setups[s], 50), Percentile(setups[s], 99)
		rw.URLP50, rw.URLP99 = Percentile(latencies[s], 50), Percentile(latencies[s], 99)
		all.Phones += rw.Phones
		all.Registered += rw.Registered
		rows = append(rows, *rw)
	}
	all.SetupP50, all.SetupP99 = Percentile(allSetups, 50), Percentile(allSetups, 99)
	all.URLP50, all.URLP99 = Percentile(allLatencies, 50), Percentile(allLatencies, 99)
	return append(rows, *all)
}

func failedSum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// WriteTable prints the merged table; the Action URL columns only when
// the phones sent any.
func WriteTable(w io.Writer, rows []Row) error {
	urls := false
	for _, r := range rows {
		urls = urls || r.URLs > 0
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	head := "shard\tphones\tregistered\tattempted\tanswered\tfailed\tsetup p50 ms\tsetup p99 ms\t"
	if urls {
		head += "URLs\tURLs failed\tURL p50 ms\tURL p99 ms\t"
	}
	fmt.Fprintln(tw, head+"failures by cause\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%.0f\t%.0f\t", r.Shard, r.Phones, r.Registered, r.Attempted,
			r.Answered, failedSum(r.Failed), r.SetupP50, r.SetupP99)
		if urls {
			fmt.Fprintf(tw, "%d\t%d\t%.1f\t%.1f\t", r.URLs, r.URLFailed, r.URLP50, r.URLP99)
		}
		fmt.Fprintf(tw, "%s\t\n", causes(r.Failed))
	}
	return tw.Flush()
}

// WriteCSV writes the calls as CSV, one row per call.
func (r *Results) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"shard", "caller", "callee", "start_ms", "setup_ms", "outcome", "status", "reason", "duration_ms"})
	for _, c := range r.Calls {
		_ = cw.Write([]string{strconv.Itoa(c.Shard), c.Caller, c.Callee, strconv.FormatInt(c.Start, 10),
			strconv.FormatInt(c.SetupMS, 10), c.Outcome, strconv.Itoa(c.Status), c.Reason, strconv.FormatInt(c.Duration, 10)})
	}
	cw.Flush()
	return cw.Error()
}

// Bucket is one second of the merged run, from the calls' dial times.
type Bucket struct {
	T                  int64 // Unix seconds
	Attempted, Failed  int
	SetupP50, SetupP99 float64
}

// Buckets are the calls per second of all shards, first to last second.
func (r *Results) Buckets() []Bucket {
	if len(r.Calls) == 0 {
		return nil
	}
	lo, hi := r.Calls[0].Start/1000, r.Calls[0].Start/1000
	for _, c := range r.Calls {
		lo, hi = min(lo, c.Start/1000), max(hi, c.Start/1000)
	}
	if hi-lo > 7*24*3600 {
		hi = lo + 7*24*3600 // a week of seconds at most
	}
	bs := make([]Bucket, hi-lo+1)
	setups := make([][]float64, len(bs))
	for i := range bs {
		bs[i].T = lo + int64(i)
	}
	for _, c := range r.Calls {
		i := c.Start/1000 - lo
		if i < 0 || i >= int64(len(bs)) || c.Cause() == "stopped" {
			continue
		}
		bs[i].Attempted++
		if c.Cause() == "answered" {
			setups[i] = append(setups[i], float64(c.SetupMS))
		} else {
			bs[i].Failed++
		}
	}
	for i := range bs {
		bs[i].SetupP50, bs[i].SetupP99 = Percentile(setups[i], 50), Percentile(setups[i], 99)
	}
	return bs
}

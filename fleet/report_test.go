package fleet

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestRecorderAndReport(t *testing.T) {
	var files [2]bytes.Buffer
	t0 := time.Unix(1_700_000_000, 0)
	for shard := range 2 {
		r := NewRecorder(&files[shard], shard)
		for i := range 4 {
			r.Attempt()
			c := Call{Caller: "1000", Callee: "1001", Start: t0.Add(time.Duration(i) * time.Second).UnixMilli(), SetupMS: int64(10 * (i + 1)), Outcome: "answered", Duration: 1000}
			if i == 3 {
				c.Outcome, c.Status = "failed", 486
			}
			r.Add(c)
			r.Tick(t0.Add(time.Duration(i)*time.Second), 5, 5)
		}
		if err := r.Flush(); err != nil {
			t.Fatal(err)
		}
		if tot := r.Totals(); tot.Attempted != 4 || tot.Answered != 3 || tot.Failed["486"] != 1 {
			t.Fatalf("totals %+v", tot)
		}
	}
	var res Results
	for i := range files {
		if err := res.Read(&files[i], "f"); err != nil {
			t.Fatal(err)
		}
	}
	rows := res.Table()
	if len(rows) != 3 {
		t.Fatalf("rows %+v", rows)
	}
	all := rows[2]
	if all.Shard != "all" || all.Phones != 10 || all.Attempted != 8 || all.Answered != 6 || all.Failed["486"] != 2 || all.SetupP50 != 20 || all.SetupP99 != 30 {
		t.Fatalf("all %+v", all)
	}
	var out bytes.Buffer
	if err := WriteTable(&out, rows); err != nil || !strings.Contains(out.String(), "486:2") {
		t.Fatalf("table %q %v", out.String(), err)
	}
	out.Reset()
	if err := res.WriteCSV(&out); err != nil || strings.Count(out.String(), "\n") != 9 {
		t.Fatalf("csv %q %v", out.String(), err)
	}
	bs := res.Buckets()
	if len(bs) != 4 || bs[3].Failed != 2 || bs[0].Attempted != 2 {
		t.Fatalf("buckets %+v", bs)
	}
	out.Reset()
	if err := WritePlot(&out, bs); err != nil || !strings.HasPrefix(out.String(), "<svg") || !strings.Contains(out.String(), "polyline") {
		t.Fatalf("plot %v", err)
	}
	if err := res.Read(strings.NewReader(`{"type":"x"}`), "bad"); err == nil || !strings.Contains(err.Error(), "bad:1") {
		t.Fatalf("bad line: %v", err)
	}
}

// TestActionURLResults: each Action URL a phone sent is a line of its
// own; the second's summary, the totals, the progress line and the
// merged table give their count, failures and latency p50/p99.
func TestActionURLResults(t *testing.T) {
	var files [2]bytes.Buffer
	t0 := time.Unix(1_700_000_000, 0)
	for shard := range 2 {
		r := NewRecorder(&files[shard], shard)
		for i := range 10 {
			r.ActionURL(URL{User: "1000", Event: "action_incoming_url", T: t0.UnixMilli(), Latency: float64(i + 1), OK: i != 9})
		}
		sec := r.Tick(t0, 5, 5)
		if sec.URLs != 10 || sec.URLFailed != 1 || sec.URLP50 != 5 || sec.URLP99 != 10 {
			t.Fatalf("second %+v", sec)
		}
		tot := r.Totals()
		if tot.URLs != 10 || tot.URLFailed != 1 || tot.URLP50 != 5 || tot.URLP99 != 10 {
			t.Fatalf("totals %+v", tot)
		}
		if p := Progress(5, 5, tot); !strings.Contains(p, "Action URLs 10 failed 1 p50 5.0ms p99 10.0ms") {
			t.Fatalf("progress %q", p)
		}
		if err := r.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	var res Results
	for i := range files {
		if err := res.Read(&files[i], "f"); err != nil {
			t.Fatal(err)
		}
	}
	if len(res.URLs) != 20 || res.URLs[0].Type != "url" || res.URLs[10].Shard != 1 {
		t.Fatalf("urls %+v", res.URLs)
	}
	rows := res.Table()
	if all := rows[2]; all.URLs != 20 || all.URLFailed != 2 || all.URLP50 != 5 || all.URLP99 != 10 {
		t.Fatalf("all %+v", all)
	}
	var out bytes.Buffer
	if err := WriteTable(&out, rows); err != nil || !strings.Contains(out.String(), "URL p99 ms") {
		t.Fatalf("table %q %v", out.String(), err)
	}
	// without Action URLs the table keeps its columns
	out.Reset()
	_ = WriteTable(&out, []Row{{Shard: "all"}})
	if strings.Contains(out.String(), "URL") {
		t.Fatalf("table without URLs: %q", out.String())
	}
}

package recstore_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/internal/evictsim"
)

type cbItem struct {
	ID   string `jsonapi:"primary,cb-items"`
	Name string `jsonapi:"attr,name"`
	N    int    `jsonapi:"attr,n"`
}

// replay serves keys from a Store bounded to capacity records (and
// maxBytes, if > 0) as a service would: Peek, and on a miss Push the
// record the backend would send. It checks the bounds every check
// accesses and returns the hits and the most records and bytes seen.
func replay(tb testing.TB, keys []uint64, capacity int, maxBytes int64, check int) (hits int, mostRecords, mostBytes int64) {
	s := recstore.New(&recstore.Options{MaxRecords: capacity, MaxBytes: maxBytes})
	defer s.Close()
	items := recstore.MustRegister[cbItem](s, nil)
	doc := make([]byte, 0, 128)
	for i, k := range keys {
		id := strconv.FormatUint(k, 36)
		if _, ok := items.Peek(id); ok {
			hits++
		} else {
			doc = append(doc[:0], `{"data":{"type":"cb-items","id":"`...)
			doc = append(doc, id...)
			doc = append(doc, `","attributes":{"name":"item `...)
			doc = append(doc, id...)
			doc = append(doc, `","n":1}}}`...)
			if _, err := items.Push(doc); err != nil {
				tb.Fatal(err)
			}
		}
		if i%check == 0 {
			st := s.Stats()
			mostRecords, mostBytes = max(mostRecords, st.Records), max(mostBytes, st.Bytes)
		}
	}
	return hits, mostRecords, mostBytes
}

// bestSimulated returns the best hit count of the simulated policies on
// keys at capacity, and its policy's name.
func bestSimulated(keys []uint64, capacity int) (best int, name string) {
	for _, p := range evictsim.PolicySpecs() {
		if h := evictsim.Simulate(p.New(capacity), keys); h > best {
			best, name = h, p.Name
		}
	}
	return best, name
}

// TestMemoryBoundCacheTrace: a bounded Store's hit ratio on a skewed
// trace is within 5% of the best policy simulated, and it keeps within
// its bounds throughout. (Named for CI's run without -race.)
func TestMemoryBoundCacheTrace(t *testing.T) {
	if raceEnabled {
		t.Skip("slow under the race detector; CI runs this test without -race")
	}
	for _, spec := range evictsim.TraceSpecs() {
		if spec.Name != "zipf-1.0" && spec.Name != "service" {
			continue
		}
		t.Run(spec.Name, func(t *testing.T) {
			const keys, n, capacity = 50_000, 150_000, 5_000
			trace := spec.Generate(n, keys, 7)
			best, name := bestSimulated(trace, capacity)
			const maxBytes = capacity * 300
			hits, records, bytes := replay(t, trace, capacity, maxBytes, 97)
			ratio := float64(hits) / float64(best)
			t.Logf("store %.2f%% hits, best simulated (%s) %.2f%%: %.3f; most records %d, most bytes %d of %d",
				100*float64(hits)/n, name, 100*float64(best)/n, ratio, records, bytes, maxBytes)
			assert.GreaterOrEqual(t, ratio, 0.95)
			assert.LessOrEqual(t, records, int64(capacity+1))
			assert.LessOrEqual(t, bytes, int64(maxBytes+300))

			// Bounded by bytes alone: it holds as many records as fit.
			const byteBound = 400_000
			hits, records, bytes = replay(t, trace, 0, byteBound, 97)
			best, name = bestSimulated(trace, int(records))
			ratio = float64(hits) / float64(best)
			t.Logf("bytes bound: store %.2f%% hits, best simulated at %d records (%s) %.2f%%: %.3f; most bytes %d of %d",
				100*float64(hits)/n, records, name, 100*float64(best)/n, ratio, bytes, byteBound)
			assert.GreaterOrEqual(t, ratio, 0.95)
			assert.LessOrEqual(t, bytes, int64(byteBound+300))
		})
	}
}

// BenchmarkCacheTrace replays the benchmark traces (2M accesses over 1M
// keys) through a Store bounded to 100k records and 30 MB: hit% is its hit
// ratio, vs-best its ratio to the best policy simulated on the same
// trace, and most-bytes the largest estimated size seen, which stays
// within the bound.
func BenchmarkCacheTrace(b *testing.B) {
	for _, name := range []string{"zipf-1.0", "service"} {
		b.Run(name, func(b *testing.B) {
			trace, err := evictsim.BenchTrace(name)
			require.NoError(b, err)
			const capacity, maxBytes = 100_000, 30 << 20
			best, _ := bestSimulated(trace, capacity)
			b.ResetTimer()
			var hits int
			var bytes int64
			for range b.N {
				hits, _, bytes = replay(b, trace, capacity, maxBytes, 1001)
			}
			b.ReportMetric(100*float64(hits)/float64(len(trace)), "hit%")
			b.ReportMetric(float64(hits)/float64(best), "vs-best")
			b.ReportMetric(float64(bytes), "most-bytes")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(trace)), "ns/access")
		})
	}
}

// BenchmarkBookkeeping measures what eviction bookkeeping adds: the same
// pushes and peeks with no bound (off, the baseline) and with a bound
// that is never reached (on: queues, counts and sizes, but no eviction),
// and with a bound that evicts on every push (evicting).
func BenchmarkBookkeeping(b *testing.B) {
	const n = 10_000
	docs := make([][]byte, n)
	for i := range docs {
		docs[i] = []byte(`{"data":{"type":"cb-items","id":"` + strconv.Itoa(i) + `","attributes":{"name":"item ` + strconv.Itoa(i) + `","n":1}}}`)
	}
	for _, mode := range []struct {
		name  string
		bound int
	}{{"off", 0}, {"on", 1 << 30}, {"evicting", n / 2}} {
		b.Run("push/"+mode.name, func(b *testing.B) {
			s := recstore.New(&recstore.Options{MaxRecords: mode.bound})
			defer s.Close()
			items := recstore.MustRegister[cbItem](s, nil)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := items.Push(docs[i%n]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("peek/"+mode.name, func(b *testing.B) {
			s := recstore.New(&recstore.Options{MaxRecords: mode.bound})
			defer s.Close()
			items := recstore.MustRegister[cbItem](s, nil)
			for _, d := range docs {
				if _, err := items.Push(d); err != nil {
					b.Fatal(err)
				}
			}
			ids := make([]string, n)
			for i := range ids {
				ids[i] = strconv.Itoa(i)
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, ok := items.Peek(ids[i%n]); !ok && mode.bound == 0 {
					b.Fatal("missing")
				}
			}
		})
	}
}

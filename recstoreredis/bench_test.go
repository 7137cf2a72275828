package recstoreredis

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"
)

// BenchmarkInvalidation measures the time from a write in one Store (a
// push that changes a record, returning) to every other Store having
// marked the record stale, on loopback: the publish, Redis, and the
// others' subscriptions. It reports p50 and p99 in µs.
//
//	go test -run '^$' -bench Invalidation -benchtime 2000x ./recstoreredis
func BenchmarkInvalidation(b *testing.B) {
	for _, n := range []int{2, 3} {
		b.Run(fmt.Sprintf("stores=%d", n), func(b *testing.B) {
			c := newCluster(b, n, false, nil)
			w := c.nodes[0]
			seen := make(chan struct{}, 64)
			for _, nd := range c.nodes {
				nd.find(b, "1")
				if nd != w {
					nd.r.applied = func(*message) { seen <- struct{}{} }
				}
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				start := time.Now()
				_, err := w.s.Push(albumDoc("1", fmt.Sprint("title ", i)))
				if err != nil {
					b.Fatal(err)
				}
				for range n - 1 {
					select {
					case <-seen:
					case <-time.After(5 * time.Second):
						b.Fatalf("a Store did not hear of write %d within 5s: %+v %+v", i, w.r.Stats(), c.nodes[1].r.Stats())
					}
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// BenchmarkFind compares a Find that misses the Store and goes to the
// backend (a JSON:API server over loopback HTTP, as fast as one can be,
// and one that takes 1ms) with one answered by the Cache from Redis. Each
// iteration unloads the record first, so every Find misses the Store.
//
//	go test -run '^$' -bench 'BenchmarkFind$' -benchmem ./recstoreredis
func BenchmarkFind(b *testing.B) {
	srv := needRedis(b)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, delay := range []time.Duration{0, time.Millisecond} {
		mem := recstoretest.NewMemoryAdapter(albumDoc("1", "one"))
		mem.Delay = delay
		backend := recstoretest.NewServer(mem)
		b.Cleanup(backend.Close)
		http := &recstore.HTTPAdapter{Host: backend.URL}
		cl, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{srv.Addr()}, DisableCache: true})
		require.NoError(b, err)
		b.Cleanup(cl.Close)
		cache, err := NewCache(cl, http, &CacheOptions{Channel: newChannel(), Logger: quiet})
		require.NoError(b, err)
		for _, via := range []struct {
			name string
			ad   recstore.Adapter
		}{{"backend", http}, {"cache", cache}} {
			b.Run(fmt.Sprintf("backend-delay=%v/via=%s", delay, via.name), func(b *testing.B) {
				s := recstore.New(&recstore.Options{Adapter: via.ad, Logger: quiet})
				defer s.Close()
				albums := recstore.MustRegister[album](s, nil)
				ctx := context.Background()
				if _, err := albums.Find(ctx, "1", nil); err != nil { // fills Redis
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if err := albums.Unload("1"); err != nil {
						b.Fatal(err)
					}
					if _, err := albums.Find(ctx, "1", nil); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

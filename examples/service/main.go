// Command service is a net/http service in front of a JSON:API backend,
// with recstore as its cache: records are fresh for a while (no backend
// call), then served while reloaded in the background, then reloaded
// before answering; at most 1,000 albums stay in memory, evicted by
// S3-FIFO; a burst of misses puts at most 8 requests on the backend; and
// the Store's figures are published with expvar.
//
// The backend and the service are local test servers, and the clock is
// moved by hand, so the example runs offline, in a moment, and prints the
// same thing every time.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"expvar"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
)

// Album is the model the service serves.
type Album struct {
	ID    string `jsonapi:"primary,album"`
	Title string `jsonapi:"attr,title"`
}

func main() {
	// The backend: a JSON:API server holding 5,000 albums.
	var fixtures strings.Builder
	fixtures.WriteString(`{"data":[`)
	for i := range 5000 {
		if i > 0 {
			fixtures.WriteString(",")
		}
		fmt.Fprintf(&fixtures, `{"type":"albums","id":"%d","attributes":{"title":"Album %d"}}`, i, i)
	}
	fixtures.WriteString(`]}`)
	backend := recstoretest.NewMemoryAdapter(fixtures.String())
	server := recstoretest.NewServer(backend)
	defer server.Close()

	// The cache: time-based freshness, bounded memory, a cap on backend
	// calls. (A real service leaves Clock nil: it is set here so that the
	// example can move time.)
	clock := &manualClock{now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	store := recstore.New(&recstore.Options{
		Adapter:            &countingAdapter{HTTPAdapter: &recstore.HTTPAdapter{Host: server.URL}},
		Expiry:             &recstore.Expiry{Soft: time.Minute, Hard: 10 * time.Minute},
		MaxRecords:         1000,
		MaxConcurrentCalls: 8,
		Clock:              clock.Now,
	})
	defer store.Close()
	albums := recstore.MustRegister[Album](store, nil)
	expvar.Publish("recstore", store.Var())

	// The service: GET /albums/{id} answers from the cache.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /albums/{id}", func(w http.ResponseWriter, r *http.Request) {
		a, err := albums.Find(r.Context(), r.PathValue("id"), nil)
		switch {
		case errors.Is(err, recstore.ErrNotFound):
			http.Error(w, "no such album", http.StatusNotFound)
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadGateway)
		default:
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(a)
		}
	})
	mux.Handle("GET /debug/vars", expvar.Handler())
	svc := httptest.NewServer(mux)
	defer svc.Close()

	get := func(path string) string {
		resp, err := http.Get(svc.URL + path)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return strings.TrimSpace(string(body))
	}
	calls := func() int { return backend.Calls("FindRecord") }

	fmt.Println("one miss, then ten hits within a minute:")
	for range 11 {
		get("/albums/7")
		clock.Add(5 * time.Second)
	}
	fmt.Printf("  %s, backend calls: %d\n", get("/albums/7"), calls())

	clock.Add(time.Minute)
	get("/albums/7")
	store.Wait()
	fmt.Printf("stale after a minute: served, reloaded in the background: backend calls %d\n", calls())

	clock.Add(11 * time.Minute)
	get("/albums/7")
	fmt.Printf("expired after ten: reloaded before answering: backend calls %d\n", calls())

	// A burst: 200 clients ask for 200 albums at once.
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() { get(fmt.Sprintf("/albums/%d", 1000+i)) })
	}
	wg.Wait()
	fmt.Printf("a burst of 200 misses: %d backend calls, at most %d at once\n", calls()-3, mostAtOnce.Load())

	// A pinned record is never evicted; the others make room.
	pin := albums.Retain("7")
	for i := range 1000 {
		get(fmt.Sprintf("/albums/%d", 2000+i))
	}
	_, kept := albums.Peek("7")
	fmt.Printf("after 1,000 more albums: %d held (bound 1,000), album 7 pinned and held: %v\n", albums.Len(), kept)
	pin.Release()

	st := store.Stats()
	fmt.Printf("stats: %d hits, %d stale hits, %d misses, %d adapter calls, %d evicted\n",
		st.Hits, st.StaleHits, st.Misses, st.AdapterCalls, st.Evictions.Total())

	var vars struct {
		Recstore recstore.Stats `json:"recstore"`
	}
	if err := json.Unmarshal([]byte(get("/debug/vars")), &vars); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("expvar /debug/vars: recstore.Records = %d\n", vars.Recstore.Records)

}

// countingAdapter is the HTTP adapter, counting the calls under way.
type countingAdapter struct {
	*recstore.HTTPAdapter
	now atomic.Int64
}

var mostAtOnce atomic.Int64

func (a *countingAdapter) FindRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	n := a.now.Add(1)
	defer a.now.Add(-1)
	for m := mostAtOnce.Load(); n > m && !mostAtOnce.CompareAndSwap(m, n); m = mostAtOnce.Load() {
	}
	time.Sleep(time.Millisecond) // a backend that takes its time
	return a.HTTPAdapter.FindRecord(ctx, req)
}

// manualClock is a clock the example moves by hand.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

package recstore_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
)

type Song struct {
	ID    string `jsonapi:"primary,song"`
	Title string `jsonapi:"attr,title"`
}

// exampleClock is a clock an example moves by hand.
type exampleClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *exampleClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *exampleClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// A time-based policy: fresh records cost no backend call, stale ones are
// served and reloaded in the background, expired ones reloaded first.
func ExampleExpiry() {
	backend := recstoretest.NewMemoryAdapter(`{"data": {"type": "songs", "id": "1", "attributes": {"title": "Intro"}}}`)
	clock := &exampleClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	store := recstore.New(&recstore.Options{
		Adapter: backend,
		Expiry:  &recstore.Expiry{Soft: time.Minute, Hard: time.Hour},
		Clock:   clock.Now, // nil in a program: time.Now
	})
	defer store.Close()
	songs := recstore.MustRegister[Song](store, nil)
	ctx := context.Background()

	for _, wait := range []time.Duration{0, 30 * time.Second, 2 * time.Minute, 2 * time.Hour} {
		clock.Add(wait)
		_, f, _ := songs.PeekFreshness("1")
		_, _ = songs.Find(ctx, "1", nil)
		store.Wait()
		fmt.Printf("after %v: stale %v, expired %v, backend calls %d\n", wait, f.Stale, f.Expired, backend.Calls("FindRecord"))
	}
	// Output:
	// after 0s: stale false, expired false, backend calls 1
	// after 30s: stale false, expired false, backend calls 1
	// after 2m0s: stale true, expired false, backend calls 2
	// after 2h0m0s: stale true, expired true, backend calls 3
}

// A bounded Store evicts what is read least; a Retain keeps what the
// caller depends on.
func ExampleStore_Retain() {
	store := recstore.New(&recstore.Options{MaxRecords: 3})
	songs := recstore.MustRegister[Song](store, nil)
	pin := songs.Retain("1")
	defer pin.Release()
	for i := 1; i <= 10; i++ {
		_, _ = songs.Push([]byte(fmt.Sprintf(`{"data": {"type": "song", "id": "%d"}}`, i)))
	}
	_, kept := songs.Peek("1")
	st := store.Stats()
	fmt.Println(songs.Len(), kept, st.Evictions.StoreRecords)
	// Output: 3 true 7
}

// Stats counts what the cache did.
func ExampleStore_Stats() {
	backend := recstoretest.NewMemoryAdapter(`{"data": {"type": "songs", "id": "1"}}`)
	store := recstore.New(&recstore.Options{Adapter: backend, Expiry: &recstore.Expiry{Soft: time.Hour}})
	defer store.Close()
	songs := recstore.MustRegister[Song](store, nil)
	for range 3 {
		_, _ = songs.Find(context.Background(), "1", nil)
	}
	st := store.Stats()
	fmt.Printf("hits %d, misses %d, adapter calls %d, records %d\n", st.Hits, st.Misses, st.AdapterCalls, st.Types["song"].Records)
	// Output: hits 2, misses 1, adapter calls 1, records 1
}

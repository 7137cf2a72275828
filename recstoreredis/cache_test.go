package recstoreredis

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCache_sharedMiss: three Stores miss one record at once, ten Finds
// each: the backend is asked once; the others wait for its answer and
// read it from Redis.
func TestCache_sharedMiss(t *testing.T) {
	c := newCluster(t, 3, true, nil)
	c.backend.Delay = 50 * time.Millisecond
	var wg sync.WaitGroup
	for _, nd := range c.nodes {
		for range 10 {
			wg.Go(func() {
				a, err := nd.albums.Find(context.Background(), "1", nil)
				assert.NoError(t, err)
				assert.Equal(t, "one", a.Title)
			})
		}
	}
	wg.Wait()
	assert.Equal(t, 1, c.backend.Calls("FindRecord"), "one backend call for 30 Finds in 3 Stores")
	var hits, misses, waits uint64
	for _, nd := range c.nodes {
		st := nd.cache.Stats()
		hits, misses, waits = hits+st.Hits, misses+st.Misses, waits+st.Waits
	}
	assert.Equal(t, uint64(1), misses)
	assert.Equal(t, uint64(2), hits, "each other Store made one call, answered from Redis")
	assert.Equal(t, uint64(2), waits)

	// Without the Cache each Store makes its own call (its concurrent
	// Finds of the record share it).
	plain := newCluster(t, 3, false, nil)
	plain.backend.Delay = 50 * time.Millisecond
	for _, nd := range plain.nodes {
		for range 10 {
			wg.Go(func() {
				_, err := nd.albums.Find(context.Background(), "1", nil)
				assert.NoError(t, err)
			})
		}
	}
	wg.Wait()
	assert.Equal(t, 3, plain.backend.Calls("FindRecord"), "one per Store without the Cache")

	// Later: a reload is a plain hit.
	_, err := c.nodes[0].albums.Find(context.Background(), "1", &recstore.FindOptions{Reload: recstore.ReloadAlways})
	require.NoError(t, err)
	assert.Equal(t, 1, c.backend.Calls("FindRecord"))
}

// TestCache_saveDropsCachedCopy: a save in one Store drops the copy in
// Redis (the Replica's message does), so the others reload from the
// backend and see the save.
func TestCache_saveDropsCachedCopy(t *testing.T) {
	c := newCluster(t, 2, true, nil)
	a, b := c.nodes[0], c.nodes[1]
	a.find(t, "1")
	b.find(t, "1")
	require.Equal(t, 1, c.backend.Calls("FindRecord"))
	_, err := a.albums.Edit("1", func(x *album) { x.Title = "uno" })
	require.NoError(t, err)
	_, err = a.albums.Save(context.Background(), "1")
	require.NoError(t, err)
	eventually(t, func() bool { return b.invalidated("1") }, "b did not hear of the save")
	assert.Equal(t, "uno", b.find(t, "1").Title, "not the old copy from Redis")
	assert.Equal(t, 2, c.backend.Calls("FindRecord"))
	require.NoError(t, b.r.Flush(context.Background()))
	assert.Equal(t, uint64(0), b.r.Stats().Published)
}

// TestCache_staleFillRefused: a load that began before a message cannot
// store its (possibly older) answer after it.
func TestCache_staleFillRefused(t *testing.T) {
	c := newCluster(t, 2, true, nil)
	a, b := c.nodes[0], c.nodes[1]
	a.find(t, "1")
	k := keys{c.channel}
	require.NoError(t, a.client.Do(context.Background(), a.client.B().Del().Key(k.record("albums", "1")).Build()).Error())
	c.backend.Delay = 100 * time.Millisecond
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.find(t, "1") // takes the lock, then waits on the backend
	}()
	eventually(t, func() bool { return b.cache.Stats().Misses == 1 }, "b did not take the lock")
	// Meanwhile another Store says album 1 changed.
	_, err := a.s.Push(albumDoc("1", "changed"))
	require.NoError(t, err)
	require.NoError(t, a.r.Flush(context.Background()))
	<-done
	assert.Equal(t, uint64(1), b.cache.Stats().Refused, "the fill after the message is refused")
	assert.Equal(t, uint64(0), b.cache.Stats().Fills)
	assert.True(t, b.invalidated("1"), "and the Store's copy is stale: the message marked the load under way")
}

// TestCache_passThrough: includes, other calls and answers that are not
// one resource go to the backend and are not kept.
func TestCache_passThrough(t *testing.T) {
	c := newCluster(t, 1, true, nil)
	nd := c.nodes[0]
	_, err := nd.albums.Find(context.Background(), "1", &recstore.FindOptions{Include: []string{"tracks"}})
	require.NoError(t, err)
	assert.Equal(t, uint64(1), nd.cache.Stats().Bypassed)
	all, err := nd.albums.FindAll(context.Background(), &recstore.FindOptions{Reload: recstore.ReloadAlways})
	require.NoError(t, err, "FindAll is the backend's, through Unwrap")
	assert.Len(t, all, 3)
	assert.Nil(t, resourceDocument([]byte(`{"data":[{"type":"albums","id":"1"}]}`), "1"), "a list")
	assert.Nil(t, resourceDocument([]byte(`{"data":{"type":"albums","id":"2"}}`), "1"), "another record")
	assert.Nil(t, resourceDocument([]byte(`{"albums":{"id":"1"}}`), "1"), "not JSON:API")
	assert.Equal(t, `{"data":{"type":"albums","id":"1"}}`, string(resourceDocument([]byte(`{"data":{"type":"albums","id":"1"},"included":[{"type":"x","id":"9"}]}`), "1")), "included left out")
}

// TestCache_backendError: a failed load releases the lock at once, so a
// waiting Store asks again instead of waiting LockTTL.
func TestCache_backendError(t *testing.T) {
	c := newCluster(t, 2, true, nil)
	a, b := c.nodes[0], c.nodes[1]
	c.backend.FailNext("FindRecord", errBackend)
	_, err := a.albums.Find(context.Background(), "1", nil)
	require.ErrorIs(t, err, errBackend)
	start := time.Now()
	assert.Equal(t, "one", b.find(t, "1").Title)
	assert.Less(t, time.Since(start), time.Second, "no lock left behind")
}

// TestCache_callsSaved: three Stores each load the same 100 records, at
// the same time, and reload them after every record was saved once
// elsewhere: with the Cache the backend answers each load once.
func TestCache_callsSaved(t *testing.T) {
	const n = 100
	for _, withCache := range []bool{false, true} {
		c := newCluster(t, 3, withCache, nil)
		for i := 4; i <= n; i++ {
			require.NoError(t, c.backend.Load([]byte(albumDoc(fmt.Sprint(i), "x"))))
		}
		loadAll := func() {
			var wg sync.WaitGroup
			for _, nd := range c.nodes {
				wg.Go(func() {
					for i := 1; i <= n; i++ {
						_, err := nd.albums.Find(context.Background(), fmt.Sprint(i), &recstore.FindOptions{BackgroundReload: recstore.ReloadNever})
						assert.NoError(t, err)
					}
				})
			}
			wg.Wait()
		}
		loadAll()
		first := c.backend.Calls("FindRecord")
		// Every record is saved once, by one of the Stores.
		for i := 1; i <= n; i++ {
			nd := c.nodes[i%3]
			_, err := nd.albums.Edit(fmt.Sprint(i), func(a *album) { a.Title = "saved" })
			require.NoError(t, err)
			_, err = nd.albums.Save(context.Background(), fmt.Sprint(i))
			require.NoError(t, err)
		}
		for _, nd := range c.nodes {
			require.NoError(t, nd.r.Flush(context.Background()))
		}
		eventually(t, func() bool {
			for i := 1; i <= n; i++ {
				for j, nd := range c.nodes {
					if j != i%3 && !nd.invalidated(fmt.Sprint(i)) {
						return false
					}
				}
			}
			return true
		}, "not every save was heard")
		loadAll()
		again := c.backend.Calls("FindRecord") - first
		t.Logf("cache=%v: first load %d backend calls, reload after saves %d (3 Stores x %d records)", withCache, first, again, n)
		if withCache {
			assert.LessOrEqual(t, first, n+3, "each record once, give or take a wait that timed out")
			assert.LessOrEqual(t, again, n+3)
		} else {
			assert.Equal(t, 3*n, first)
			assert.Equal(t, 2*n, again, "the two Stores that did not save reload")
		}
	}
}

// TestCache_readYourWrite: a reload right after a save, in the Store that
// saved, reads the save, not the copy Redis held before it (the Replica's
// message comes later; the Cache drops the copy as the save returns).
func TestCache_readYourWrite(t *testing.T) {
	c := newCluster(t, 1, true, nil)
	a := c.nodes[0]
	for i := range 20 {
		a.find(t, "1")
		title := fmt.Sprint("saved ", i)
		_, err := a.albums.Edit("1", func(x *album) { x.Title = title })
		require.NoError(t, err)
		_, err = a.albums.Save(context.Background(), "1")
		require.NoError(t, err)
		got, err := a.albums.Find(context.Background(), "1", &recstore.FindOptions{Reload: recstore.ReloadAlways})
		require.NoError(t, err)
		require.Equal(t, title, got.Title, "round %d", i)
	}
}

// TestCache_backendPanic: a panicking backend releases the lock at once
// (the Store reports the panic as ever), so another Store does not wait
// LockTTL.
func TestCache_backendPanic(t *testing.T) {
	c := newCluster(t, 2, true, nil)
	a, b := c.nodes[0], c.nodes[1]
	c.backend.Fail = func(op string, _ *recstore.Request) error {
		if op == "FindRecord" {
			c.backend.Fail = nil
			panic("backend boom")
		}
		return nil
	}
	_, err := a.albums.Find(context.Background(), "1", nil)
	require.ErrorIs(t, err, recstore.ErrPanic)
	start := time.Now()
	assert.Equal(t, "one", b.find(t, "1").Title)
	assert.Less(t, time.Since(start), time.Second, "no lock left behind")
}

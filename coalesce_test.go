package recstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// backendWith returns a fakeBackend holding albums 0..n-1.
func backendWith(n int) *fakeBackend {
	fb := newFakeBackend()
	for i := range n {
		fb.records[fmt.Sprintf("album:%d", i)] = fmt.Sprintf(`{"type": "album", "id": "%d", "attributes": {"title": "t%d"}}`, i, i)
	}
	return fb
}

// findAll runs one Find per id at once and returns their errors by id.
func findAtOnce(t *testing.T, albums *recstore.Model[Album], ctx context.Context, ids []string) map[string]error {
	t.Helper()
	var mu sync.Mutex
	errs := map[string]error{}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			a, err := albums.Find(ctx, id, noBackground)
			if err == nil && a.ID != id {
				err = fmt.Errorf("asked %s, got %s", id, a.ID)
			}
			mu.Lock()
			errs[id] = err
			mu.Unlock()
		})
	}
	wg.Wait()
	return errs
}

func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint(i)
	}
	return out
}

func TestCoalescedFinds(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		maxBatch  int
		window    time.Duration
		wantCalls int
	}{
		// Windows are wide so that a loaded CI machine still starts every
		// goroutine inside one; full batches go out without waiting.
		{"one batch", 10, 0, 150 * time.Millisecond, 1},
		{"split by MaxBatch", 10, 3, 150 * time.Millisecond, 4},
		{"1000 at once", 1000, 100, 5 * time.Second, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fb := backendWith(tt.n)
			_, albums := findStore(t, fb, &recstore.Options{Coalesce: &recstore.CoalesceOptions{Window: tt.window, MaxBatch: tt.maxBatch}})
			for id, err := range findAtOnce(t, albums, context.Background(), ids(tt.n)) {
				require.NoError(t, err, id)
			}
			assert.EqualValues(t, tt.wantCalls, fb.calls.Load())
			assert.Equal(t, tt.n, albums.Len())
		})
	}
}

func TestCoalescedFindsMissingAndFailing(t *testing.T) {
	fb := backendWith(3)
	s, albums := findStore(t, fb, &recstore.Options{Coalesce: &recstore.CoalesceOptions{Window: 150 * time.Millisecond}})
	errs := findAtOnce(t, albums, context.Background(), []string{"0", "1", "2", "404"})
	assert.NoError(t, errs["0"])
	assert.NoError(t, errs["2"])
	require.ErrorIs(t, errs["404"], recstore.ErrNotFound, "only the missing id fails")
	assert.ErrorContains(t, errs["404"], "expected 'album:404' to be present in the adapter provided payload, but it was not found")
	assert.EqualValues(t, 1, fb.calls.Load())

	// A failed FindMany fails its callers and lands nothing.
	fb.err = errors.New("backend down")
	before := recstore.Dump(s)
	for _, err := range findAtOnce(t, albums, context.Background(), []string{"5", "6"}) {
		assert.ErrorContains(t, err, "backend down")
		var ae *recstore.AdapterError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, "FindMany", ae.Op)
	}
	requireUnchanged(t, s, before)
}

func TestCoalescedFindCancelled(t *testing.T) {
	fb := backendWith(3)
	_, albums := findStore(t, fb, &recstore.Options{Coalesce: &recstore.CoalesceOptions{Window: 300 * time.Millisecond}})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var cancelledErr error
	wg.Go(func() { _, cancelledErr = albums.Find(ctx, "0", noBackground) })
	time.Sleep(5 * time.Millisecond)
	cancel() // leaves before the batch is sent
	errs := findAtOnce(t, albums, context.Background(), []string{"1", "2"})
	wg.Wait()
	assert.ErrorIs(t, cancelledErr, context.Canceled)
	assert.NoError(t, errs["1"])
	assert.NoError(t, errs["2"])
	fb.mu.Lock()
	defer fb.mu.Unlock()
	require.Len(t, fb.seen, 1)
	got := slices.Clone(fb.seen[0].IDs)
	slices.Sort(got)
	assert.Equal(t, []string{"1", "2"}, got, "the abandoned id was not asked for")
}

func TestCoalescingLeavesOtherFindsAlone(t *testing.T) {
	fb := backendWith(2)
	_, albums := findStore(t, fb, &recstore.Options{Coalesce: &recstore.CoalesceOptions{}})
	_, err := albums.Find(context.Background(), "0", &recstore.FindOptions{Include: []string{"label"}, BackgroundReload: recstore.ReloadNever})
	require.NoError(t, err)
	fb.mu.Lock()
	assert.Equal(t, "0", fb.seen[0].ID, "a Find with an include list is sent on its own")
	fb.mu.Unlock()

	// One Find alone in its window goes as FindRecord.
	_, err = albums.Find(context.Background(), "1", noBackground)
	require.NoError(t, err)
	fb.mu.Lock()
	assert.Equal(t, "1", fb.seen[1].ID)
	assert.Empty(t, fb.seen[1].IDs)
	fb.mu.Unlock()
}

func TestHTTPAdapterGroupsByURLLength(t *testing.T) {
	a := &recstore.HTTPAdapter{Host: "http://example.com", MaxURLLength: 60}
	groups := a.GroupForFindMany("album", []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"})
	require.Greater(t, len(groups), 1)
	var all []string
	for _, g := range groups {
		all = append(all, g...)
		u := "http://example.com/albums?filter%5Bid%5D=" + join(g, "%2C")
		assert.LessOrEqual(t, len(u), 60, u)
	}
	assert.Equal(t, []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}, all)

	r := &recstore.RESTAdapter{HTTPAdapter: recstore.HTTPAdapter{Host: "http://example.com", MaxURLLength: 60}}
	for _, g := range r.GroupForFindMany("album", []string{"1", "2", "3", "4", "5", "6"}) {
		u := "http://example.com/albums?ids%5B%5D=" + join(g, "&ids%5B%5D=")
		assert.LessOrEqual(t, len(u), 60, u)
	}
}

func join(s []string, sep string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += sep
		}
		out += x
	}
	return out
}

// gatedGrouper groups only once its gate opens, so that callers can leave
// while their batch is being grouped.
type gatedGrouper struct {
	*fakeBackend
	once    *sync.Once
	entered chan struct{} // closed when grouping first starts
	gate    chan struct{}
}

func (g gatedGrouper) GroupForFindMany(typ string, ids []string) [][]string {
	g.once.Do(func() { close(g.entered) })
	<-g.gate
	return [][]string{ids}
}

func TestCoalescedCallersLeavingWhileGrouping(t *testing.T) {
	fb := backendWith(3)
	g := gatedGrouper{fakeBackend: fb, once: new(sync.Once), entered: make(chan struct{}), gate: make(chan struct{})}
	s, albums := findStore(t, g, &recstore.Options{Coalesce: &recstore.CoalesceOptions{}})
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan map[string]error, 1)
	go func() { errs <- findAtOnce(t, albums, ctx, []string{"0", "1"}) }()
	<-g.entered
	cancel()
	for _, err := range <-errs { // every caller has left
		assert.ErrorIs(t, err, context.Canceled)
	}
	close(g.gate)
	require.NoError(t, s.Close()) // waits for the batch's goroutines
	assert.Zero(t, fb.calls.Load(), "nobody waits: no call is made")
}

// closingGrouper is a ManyFinder whose GroupForFindMany blocks until its
// gate opens, and records that it returned.
type closingGrouper struct {
	*fakeBackend
	entered, gate chan struct{}
	returned      atomic.Bool
}

func (g *closingGrouper) GroupForFindMany(typ string, ids []string) [][]string {
	close(g.entered) // one batch only
	<-g.gate
	g.returned.Store(true)
	return [][]string{ids}
}

// Close waits for a coalesced batch that is being grouped: nothing the
// batch started runs after Close returns, GroupForFindMany included, and
// the batch's callers get ErrClosed.
func TestCloseWaitsForGroupForFindMany(t *testing.T) {
	fb := backendWith(3)
	g := &closingGrouper{fakeBackend: fb, entered: make(chan struct{}), gate: make(chan struct{})}
	s, albums := findStore(t, g, &recstore.Options{Coalesce: &recstore.CoalesceOptions{}})
	errs := make(chan map[string]error, 1)
	go func() { errs <- findAtOnce(t, albums, context.Background(), []string{"0", "1"}) }()
	<-g.entered
	require.Positive(t, recstore.Running(s), "a batch in GroupForFindMany counts as running, so that Close waits for it")

	closed := make(chan bool)
	go func() {
		s.Close()
		closed <- g.returned.Load()
	}()
	require.Eventually(t, func() bool { return recstore.Closing(s) }, 10*time.Second, time.Millisecond)
	close(g.gate)
	assert.True(t, <-closed, "Close returned while GroupForFindMany was running")
	for id, err := range <-errs {
		assert.ErrorIs(t, err, recstore.ErrClosed, "Find of %s", id)
	}
	assert.Zero(t, fb.calls.Load(), "no call is made once Close has begun")
	assert.Zero(t, recstore.Running(s), "nothing runs after Close returns")
}

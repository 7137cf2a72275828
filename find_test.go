package recstore_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeBackend is an Adapter over JSON:API payloads held in memory, with
// call counts and hooks for delays and failures.
type fakeBackend struct {
	mu      sync.Mutex
	records map[string]string // "type:id" → resource object JSON
	calls   atomic.Int64
	gate    chan struct{}           // if set, FindRecord waits for it to close
	before  func(*recstore.Request) // if set, called at the start of each call
	err     error                   // if set, every call fails with it
	seen    []*recstore.Request
	ctxErr  atomic.Value // the error of the last call's ctx once it returned
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{records: map[string]string{
		"album:1": `{"type": "album", "id": "1", "attributes": {"title": "Fewer Moving Parts", "song-count": 10}}`,
		"album:2": `{"type": "album", "id": "2", "attributes": {"title": "Calgary", "song-count": 2}}`,
	}}
}

func (f *fakeBackend) FindRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	f.calls.Add(1)
	f.mu.Lock()
	f.seen = append(f.seen, req)
	gate, before, err := f.gate, f.before, f.err
	f.mu.Unlock()
	if before != nil {
		before(req)
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			f.ctxErr.Store(ctx.Err())
			return nil, ctx.Err()
		}
	}
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	rec, ok := f.records[req.Type+":"+req.ID]
	f.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%s %s: %w", req.Type, req.ID, recstore.ErrNotFound)
	}
	return []byte(`{"data": ` + rec + `}`), nil
}

func (f *fakeBackend) FindAll(ctx context.Context, req *recstore.Request) ([]byte, error) {
	f.calls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	out := `{"data": [`
	first := true
	for _, id := range []string{"1", "2", "3"} {
		if rec, ok := f.records[req.Type+":"+id]; ok {
			if !first {
				out += ","
			}
			first = false
			out += rec
		}
	}
	return []byte(out + `]}`), nil
}

func (f *fakeBackend) Query(ctx context.Context, req *recstore.Request) ([]byte, error) {
	f.calls.Add(1)
	return []byte(`{"data": [` + f.records["album:2"] + `,` + f.records["album:1"] + `], "meta": {"total": 2}, "links": {"next": "/albums?page=2"}}`), nil
}

func (f *fakeBackend) QueryRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	f.calls.Add(1)
	if req.Query.Get("title") == "none" {
		return []byte(`{"data": null}`), nil
	}
	return []byte(`{"data": ` + f.records["album:2"] + `}`), nil
}

func (f *fakeBackend) set(key, rec string) {
	f.mu.Lock()
	f.records[key] = rec
	f.mu.Unlock()
}

// findStore returns a Store whose Album, Label and Track models use fb.
func findStore(t *testing.T, fb recstore.Adapter, opts *recstore.Options) (*recstore.Store, *recstore.Model[Album]) {
	t.Helper()
	if opts == nil {
		opts = &recstore.Options{}
	}
	opts.Adapter = fb
	s := recstore.New(opts)
	t.Cleanup(func() { s.Close() })
	albums := recstore.MustRegister[Album](s, nil)
	recstore.MustRegister[Label](s, nil)
	recstore.MustRegister[Track](s, nil)
	return s, albums
}

var noBackground = &recstore.FindOptions{BackgroundReload: recstore.ReloadNever}

func TestFindMissLoadsAndCaches(t *testing.T) {
	fb := newFakeBackend()
	s, albums := findStore(t, fb, nil)
	a, err := albums.Find(context.Background(), "1", nil)
	require.NoError(t, err)
	assert.Equal(t, Album{ID: "1", Title: "Fewer Moving Parts", SongCount: 10}, a)
	assert.EqualValues(t, 1, fb.calls.Load())

	// A hit returns at once and, by default, refreshes in the background.
	fb.set("album:1", `{"type": "album", "id": "1", "attributes": {"title": "Fewer Moving Parts (Deluxe)"}}`)
	a, err = albums.Find(context.Background(), "1", nil)
	require.NoError(t, err)
	assert.Equal(t, "Fewer Moving Parts", a.Title, "the cached record comes back at once")
	s.Wait()
	assert.EqualValues(t, 2, fb.calls.Load())
	a, _ = albums.Peek("1")
	assert.Equal(t, "Fewer Moving Parts (Deluxe)", a.Title, "the background reload landed")
	assert.Equal(t, 10, a.SongCount, "and merged")

	v, err := s.Find(context.Background(), recstore.Key{Type: "album", ID: "2"}, noBackground)
	require.NoError(t, err)
	assert.Equal(t, "Calgary", v.(Album).Title)
}

// reloadPolicy answers ShouldReloadRecord and ShouldBackgroundReloadRecord
// as told; embedding DefaultReloadPolicy supplies the rest.
type reloadPolicy struct {
	*fakeBackend
	recstore.DefaultReloadPolicy
	reload, background bool
	asked              atomic.Int64
	title              atomic.Value // what the policy saw in the Snapshot
}

func (p *reloadPolicy) ShouldReloadRecord(snap *recstore.Snapshot) bool {
	p.asked.Add(1)
	if v, ok := snap.Attr("title"); ok {
		p.title.Store(v)
	}
	return p.reload
}

func (p *reloadPolicy) ShouldBackgroundReloadRecord(*recstore.Snapshot) bool { return p.background }

func TestFindReloadPolicies(t *testing.T) {
	tests := []struct {
		name               string
		opts               *recstore.FindOptions
		reload, background bool
		wantCalls          int64 // adapter calls on the hit, blocking or not
		wantAsked          int64
		wantFresh          bool // the hit returns the backend's new title
	}{
		{"defaults: cached, background reload", nil, false, true, 1, 1, false},
		{"policy says reload", nil, true, false, 1, 1, true},
		{"policy says neither", nil, false, false, 0, 1, false},
		{"ReloadAlways skips the hook", &recstore.FindOptions{Reload: recstore.ReloadAlways}, false, false, 1, 0, true},
		{"ReloadNever skips the hook", &recstore.FindOptions{Reload: recstore.ReloadNever}, true, false, 0, 0, false},
		{"BackgroundReload always", &recstore.FindOptions{Reload: recstore.ReloadNever, BackgroundReload: recstore.ReloadAlways}, false, false, 1, 0, false},
		{"BackgroundReload never", &recstore.FindOptions{BackgroundReload: recstore.ReloadNever}, false, true, 0, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fb := newFakeBackend()
			p := &reloadPolicy{fakeBackend: fb, reload: tt.reload, background: tt.background}
			s, albums := findStore(t, p, nil)
			_, err := albums.Find(context.Background(), "1", nil)
			require.NoError(t, err)
			require.EqualValues(t, 0, p.asked.Load(), "a miss does not ask the policy")
			fb.calls.Store(0)
			fb.set("album:1", `{"type": "album", "id": "1", "attributes": {"title": "new"}}`)

			a, err := albums.Find(context.Background(), "1", tt.opts)
			require.NoError(t, err)
			assert.Equal(t, tt.wantFresh, a.Title == "new", "title %q", a.Title)
			s.Wait()
			assert.Equal(t, tt.wantCalls, fb.calls.Load())
			assert.Equal(t, tt.wantAsked, p.asked.Load())
			if tt.wantAsked > 0 {
				assert.Equal(t, "Fewer Moving Parts", p.title.Load(), "the policy sees the cached record")
			}
		})
	}
}

func TestFindSharesOneCall(t *testing.T) {
	fb := newFakeBackend()
	fb.gate = make(chan struct{})
	_, albums := findStore(t, fb, nil)
	const n = 1000
	var started, done sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		started.Add(1)
		done.Go(func() {
			started.Done()
			a, err := albums.Find(context.Background(), "1", noBackground)
			if err == nil && a.Title != "Fewer Moving Parts" {
				err = fmt.Errorf("got %+v", a)
			}
			errs <- err
		})
	}
	started.Wait()
	time.Sleep(20 * time.Millisecond) // let the Finds reach the shared call
	close(fb.gate)
	done.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.EqualValues(t, 1, fb.calls.Load(), "1000 Finds of one record make one adapter call")
}

func TestFindIncludeSubsetsShare(t *testing.T) {
	fb := newFakeBackend()
	fb.gate = make(chan struct{})
	_, albums := findStore(t, fb, nil)
	var wg sync.WaitGroup
	find := func(include ...string) {
		wg.Go(func() {
			_, err := albums.Find(context.Background(), "1", &recstore.FindOptions{Include: include, BackgroundReload: recstore.ReloadNever})
			assert.NoError(t, err)
		})
	}
	find("label", "tracks")
	require.Eventually(t, func() bool { return fb.calls.Load() == 1 }, time.Second, time.Millisecond)
	find("label")    // a subset: shares the first call
	find()           // no include: shares too
	find("producer") // not covered: a call of its own
	require.Eventually(t, func() bool { return fb.calls.Load() == 2 }, time.Second, time.Millisecond)
	time.Sleep(10 * time.Millisecond)
	close(fb.gate)
	wg.Wait()
	assert.EqualValues(t, 2, fb.calls.Load())
	fb.mu.Lock()
	defer fb.mu.Unlock()
	assert.Equal(t, []string{"label", "tracks"}, fb.seen[0].Include)
	assert.Equal(t, []string{"producer"}, fb.seen[1].Include)
}

func TestFindCancellation(t *testing.T) {
	fb := newFakeBackend()
	fb.gate = make(chan struct{})
	s, albums := findStore(t, fb, nil)

	// One caller giving up does not fail the other, nor cancel the call.
	short, cancelShort := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var shortErr, longErr error
	var got Album
	wg.Go(func() { _, shortErr = albums.Find(short, "1", noBackground) })
	require.Eventually(t, func() bool { return fb.calls.Load() == 1 }, time.Second, time.Millisecond)
	wg.Go(func() { got, longErr = albums.Find(context.Background(), "1", noBackground) })
	require.Eventually(t, func() bool { return recstore.Waiters(s, "album", "1") == 2 }, time.Second, time.Millisecond)
	cancelShort()
	require.Eventually(t, func() bool { return recstore.Waiters(s, "album", "1") == 1 }, time.Second, time.Millisecond)
	close(fb.gate)
	wg.Wait()
	assert.ErrorIs(t, shortErr, context.Canceled)
	require.NoError(t, longErr)
	assert.Equal(t, "Fewer Moving Parts", got.Title)
	assert.EqualValues(t, 1, fb.calls.Load())

	// When every caller has gone, the call is cancelled and nothing lands.
	fb2 := newFakeBackend()
	fb2.gate = make(chan struct{})
	s2, albums2 := findStore(t, fb2, nil)
	before := recstore.Dump(s2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fb2.before = func(*recstore.Request) { cancel() } // the caller gives up once the call is made
	_, err := albums2.Find(ctx, "1", noBackground)
	assert.ErrorIs(t, err, context.Canceled)
	require.Eventually(t, func() bool { return fb2.ctxErr.Load() != nil }, 10*time.Second, time.Millisecond, "the adapter's ctx is cancelled")
	requireUnchanged(t, s2, before)
}

func TestFindFailuresLeaveNoTrace(t *testing.T) {
	tests := []struct {
		name    string
		payload string // the backend's answer for album 1
		err     error  // or its error
		is      []error
	}{
		{"adapter error", "", errors.New("connection reset"), nil},
		{"not found", "", fmt.Errorf("gone: %w", recstore.ErrNotFound), []error{recstore.ErrNotFound}},
		{"data null", `null`, nil, []error{recstore.ErrNotFound}},
		{"another id", `{"type": "album", "id": "2"}`, nil, []error{recstore.ErrWrongRecord}},
		{"many records", `[{"type": "album", "id": "1"}, {"type": "album", "id": "2"}]`, nil, []error{recstore.ErrBadResponse}},
		{"another type", `{"type": "label", "id": "1"}`, nil, []error{recstore.ErrWrongRecord}},
		{"bad attribute", `{"type": "album", "id": "1", "attributes": {"song-count": 1.5}}`, nil, []error{recstore.ErrInvalidDocument, recstore.ErrInvalidAttribute}},
		{"not JSON", `{`, nil, []error{recstore.ErrInvalidDocument}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fb := newFakeBackend()
			fb.err = tt.err
			if tt.payload != "" {
				fb.set("album:1", tt.payload)
			}
			s, albums := findStore(t, fb, nil)
			_, err := s.Push(`{"data": {"type": "album", "id": "7", "attributes": {"title": "other"}}}`)
			require.NoError(t, err)
			before := recstore.Dump(s)
			_, err = albums.Find(context.Background(), "1", nil)
			require.Error(t, err)
			var ae *recstore.AdapterError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, "FindRecord", ae.Op)
			assert.Equal(t, "album", ae.Type)
			assert.Equal(t, "1", ae.ID)
			for _, is := range tt.is {
				assert.ErrorIs(t, err, is)
			}
			if tt.err != nil {
				assert.ErrorIs(t, err, tt.err)
			}
			requireUnchanged(t, s, before)
			assert.False(t, albums.Has("1"))
		})
	}
}

func TestFindWithoutAdapter(t *testing.T) {
	s, albums, _, _, _ := newStore(t, nil)
	_, err := albums.Find(context.Background(), "1", nil)
	assert.ErrorIs(t, err, recstore.ErrNoAdapter)
	_, err = s.Push(`{"data": {"type": "album", "id": "1", "attributes": {"title": "cached"}}}`)
	require.NoError(t, err)
	a, err := albums.Find(context.Background(), "1", &recstore.FindOptions{Reload: recstore.ReloadAlways})
	require.NoError(t, err, "without an adapter a held record is all there is")
	assert.Equal(t, "cached", a.Title)
	_, err = s.Find(context.Background(), recstore.Key{Type: "nope", ID: "1"}, nil)
	assert.ErrorIs(t, err, recstore.ErrUnknownType)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = albums.Find(ctx, "1", nil)
	assert.ErrorIs(t, err, context.Canceled)
}

// errorLog collects what OnBackgroundError receives.
type errorLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errorLog) add(err error) {
	l.mu.Lock()
	l.errs = append(l.errs, err)
	l.mu.Unlock()
}

func (l *errorLog) list() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.errs)
}

func TestBackgroundReloads(t *testing.T) {
	fb := newFakeBackend()
	var reports errorLog
	s, albums := findStore(t, fb, &recstore.Options{OnBackgroundError: reports.add})
	_, err := albums.Find(context.Background(), "1", nil)
	require.NoError(t, err)

	// Three Finds of a cached record start one background reload.
	fb.gate = make(chan struct{})
	fb.calls.Store(0)
	for range 3 {
		_, err := albums.Find(context.Background(), "1", nil)
		require.NoError(t, err)
	}
	close(fb.gate)
	s.Wait()
	assert.EqualValues(t, 1, fb.calls.Load())

	// A failed background reload is reported, not lost, and changes nothing.
	fb.gate, fb.err = nil, errors.New("backend down")
	before := recstore.Dump(s)
	_, err = albums.Find(context.Background(), "1", nil)
	require.NoError(t, err)
	s.Wait()
	reported := reports.list()
	require.Len(t, reported, 1)
	assert.ErrorContains(t, reported[0], "backend down")
	requireUnchanged(t, s, before)

	// Close cancels a reload under way, waits for it, and stops new calls.
	fb.err, fb.gate = nil, make(chan struct{})
	fb.ctxErr = atomic.Value{}
	callsBefore := fb.calls.Load()
	_, err = albums.Find(context.Background(), "1", nil)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	if fb.calls.Load() > callsBefore {
		assert.Equal(t, context.Canceled, fb.ctxErr.Load(), "Close cancelled the reload's call")
	} // else Close came before the call started, which then never did
	_, err = albums.Find(context.Background(), "2", nil)
	assert.ErrorIs(t, err, recstore.ErrClosed)
	a, err := albums.Find(context.Background(), "1", nil)
	require.NoError(t, err, "a held record is still returned after Close")
	assert.Equal(t, "1", a.ID)
	require.NoError(t, s.Close(), "Close is idempotent")
}

// Wait returns only after a failed background reload has been reported,
// for a record and for a FindAll; a report may close the Store from
// another goroutine.
func TestBackgroundErrorsReportedBeforeWaitReturns(t *testing.T) {
	for _, all := range []bool{false, true} {
		t.Run(fmt.Sprintf("FindAll=%v", all), func(t *testing.T) {
			fb := newFakeBackend()
			var s *recstore.Store
			var reported atomic.Int64
			closed := make(chan struct{})
			s, albums := findStore(t, fb, &recstore.Options{OnBackgroundError: func(err error) {
				time.Sleep(10 * time.Millisecond) // a slow report: Wait must not return first
				reported.Add(1)
				go func() { s.Close(); close(closed) }()
			}})
			_, err := albums.FindAll(context.Background(), nil)
			require.NoError(t, err)
			fb.mu.Lock()
			fb.err = errors.New("backend down")
			fb.mu.Unlock()
			if all {
				_, err = albums.FindAll(context.Background(), nil)
			} else {
				_, err = albums.Find(context.Background(), "1", nil)
			}
			require.NoError(t, err)
			s.Wait()
			assert.EqualValues(t, 1, reported.Load())
			select {
			case <-closed:
			case <-time.After(10 * time.Second):
				t.Fatal("Close called from a report did not return")
			}
		})
	}
}

// Callers of a coalesced group leave while its FindMany is under way: the
// call is cancelled, and (under -race) the group's count of live callers
// is never read unguarded.
func TestCoalescedCallersLeavingDuringFindMany(t *testing.T) {
	fb := backendWith(3)
	fb.gate = make(chan struct{})
	_, albums := findStore(t, fb, &recstore.Options{Coalesce: &recstore.CoalesceOptions{Window: 20 * time.Millisecond}})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, id := range []string{"0", "1"} {
		wg.Go(func() {
			_, err := albums.Find(ctx, id, noBackground)
			assert.ErrorIs(t, err, context.Canceled)
		})
	}
	// No synchronisation with the call on purpose: waiting on the call
	// count would order the callers' leaving after the group's reads and
	// hide from -race what real callers do. On a machine slow enough that
	// the batch is not sent yet, the callers leave first and it never is.
	time.Sleep(200 * time.Millisecond)
	cancel()
	wg.Wait()
	require.Eventually(t, func() bool { return fb.ctxErr.Load() != nil || fb.calls.Load() == 0 }, 10*time.Second, time.Millisecond,
		"the group's call is cancelled, or was never made")
}

func TestBackgroundReloadsAreBounded(t *testing.T) {
	fb := newFakeBackend()
	fb.gate = make(chan struct{})
	s, albums := findStore(t, fb, &recstore.Options{MaxBackgroundReloads: 2})
	for _, id := range []string{"1", "2", "3", "4"} {
		_, err := s.Push(fmt.Sprintf(`{"data": {"type": "album", "id": %q}}`, id))
		require.NoError(t, err)
		_, err = albums.Find(context.Background(), id, nil)
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return fb.calls.Load() == 2 }, 10*time.Second, time.Millisecond)
	for range 3 { // a record already waiting its turn is queued once
		_, err := albums.Find(context.Background(), "4", nil)
		require.NoError(t, err)
	}
	time.Sleep(10 * time.Millisecond)
	assert.EqualValues(t, 2, fb.calls.Load(), "no more than the cap at once")
	close(fb.gate)
	s.Wait()
	assert.EqualValues(t, 4, fb.calls.Load(), "reloads past the cap wait their turn, once per record")
}

// With coalescing on, background reloads go out together as FindMany
// calls, not one slot at a time.
func TestBackgroundReloadsCoalesce(t *testing.T) {
	fb := backendWith(50)
	s, albums := findStore(t, fb, &recstore.Options{Coalesce: &recstore.CoalesceOptions{Window: 50 * time.Millisecond}})
	for i := range 50 {
		_, err := s.Push(fmt.Sprintf(`{"data": {"type": "album", "id": "%d"}}`, i))
		require.NoError(t, err)
	}
	for i := range 50 {
		_, err := albums.Find(context.Background(), fmt.Sprint(i), nil)
		require.NoError(t, err)
	}
	s.Wait()
	for i := range 50 {
		a, _ := albums.Peek(fmt.Sprint(i))
		assert.Equal(t, fmt.Sprintf("t%d", i), a.Title, "every cached record was refreshed")
	}
	fb.mu.Lock()
	defer fb.mu.Unlock()
	ids := 0
	for _, req := range fb.seen {
		ids += max(len(req.IDs), 1)
	}
	assert.Equal(t, 50, ids)
	assert.Less(t, len(fb.seen), 50, "the reloads were batched")
}

func TestFindAll(t *testing.T) {
	fb := newFakeBackend()
	s, albums := findStore(t, fb, nil)

	// Nothing cached: FindAll waits for the backend.
	got, err := albums.FindAll(context.Background(), nil)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.EqualValues(t, 1, fb.calls.Load())

	// Something cached: returned at once, refreshed in the background, and
	// records the backend leaves out stay.
	_, err = s.Push(`{"data": {"type": "album", "id": "9", "attributes": {"title": "local"}}}`)
	require.NoError(t, err)
	fb.set("album:3", `{"type": "album", "id": "3", "attributes": {"title": "new on the server"}}`)
	got, err = albums.FindAll(context.Background(), nil)
	require.NoError(t, err)
	assert.Len(t, got, 3, "the cached records, at once")
	s.Wait()
	keys, err := s.FindAll(context.Background(), "album", &recstore.FindOptions{BackgroundReload: recstore.ReloadNever})
	require.NoError(t, err)
	assert.Equal(t, []recstore.Key{{Type: "album", ID: "1"}, {Type: "album", ID: "2"}, {Type: "album", ID: "9"}, {Type: "album", ID: "3"}}, keys)

	// Without an AllFinder, FindAll is not supported.
	s2, albums2 := findStore(t, recstore.AdapterFunc(fb.FindRecord), nil)
	_, err = albums2.FindAll(context.Background(), nil)
	assert.ErrorIs(t, err, recstore.ErrNotSupported)
	_, err = s2.FindAll(context.Background(), "nope", nil)
	assert.ErrorIs(t, err, recstore.ErrUnknownType)
}

func TestQuery(t *testing.T) {
	fb := newFakeBackend()
	s, albums := findStore(t, fb, nil)
	res, err := albums.Query(context.Background(), url.Values{"sort": {"title"}})
	require.NoError(t, err)
	require.Len(t, res.Records, 2)
	assert.Equal(t, "2", res.Records[0].ID, "in the response's order")
	assert.Equal(t, map[string]any{"total": 2.0}, res.Meta)
	assert.Equal(t, map[string]any{"next": "/albums?page=2"}, res.Links)
	assert.True(t, albums.Has("1"), "the records were pushed")

	// Not live: a later push does not join it.
	_, err = s.Push(`{"data": {"type": "album", "id": "5"}}`)
	require.NoError(t, err)
	assert.Len(t, res.Records, 2)

	a, err := albums.QueryRecord(context.Background(), url.Values{"title": {"Calgary"}})
	require.NoError(t, err)
	assert.Equal(t, "2", a.ID)
	_, err = albums.QueryRecord(context.Background(), url.Values{"title": {"none"}})
	assert.ErrorIs(t, err, recstore.ErrNotFound)

	_, albums2 := findStore(t, recstore.AdapterFunc(fb.FindRecord), nil)
	_, err = albums2.Query(context.Background(), nil)
	assert.ErrorIs(t, err, recstore.ErrNotSupported)
}

// The Store's untyped Query and QueryRecord answer with keys.
func TestStoreQuery(t *testing.T) {
	fb := newFakeBackend()
	s, albums := findStore(t, fb, nil)
	res, err := s.Query(context.Background(), "album", url.Values{"sort": {"title"}})
	require.NoError(t, err)
	assert.Equal(t, []recstore.Key{{Type: "album", ID: "2"}, {Type: "album", ID: "1"}}, res.Records)
	assert.Equal(t, map[string]any{"total": 2.0}, res.Meta)
	assert.Equal(t, map[string]any{"next": "/albums?page=2"}, res.Links)
	assert.True(t, albums.Has("2"))

	k, err := s.QueryRecord(context.Background(), "album", url.Values{"title": {"Calgary"}})
	require.NoError(t, err)
	assert.Equal(t, recstore.Key{Type: "album", ID: "2"}, k)

	tests := []struct {
		name string
		call func() error
		is   error
	}{
		{"Query of an unknown type", func() error { _, err := s.Query(context.Background(), "nope", nil); return err }, recstore.ErrUnknownType},
		{"QueryRecord of an unknown type", func() error { _, err := s.QueryRecord(context.Background(), "nope", nil); return err }, recstore.ErrUnknownType},
		{"QueryRecord with no match", func() error {
			_, err := s.QueryRecord(context.Background(), "album", url.Values{"title": {"none"}})
			return err
		}, recstore.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.ErrorIs(t, tt.call(), tt.is) })
	}
}

// restStore returns a Store whose albums are read by the seed's REST
// serializer from what answer returns for each request.
func restStore(t *testing.T, answer func(req *recstore.Request) string) (*recstore.Store, *recstore.Model[Album]) {
	s := recstore.New(&recstore.Options{Adapter: recstore.AdapterFunc(func(ctx context.Context, req *recstore.Request) ([]byte, error) {
		return []byte(answer(req)), nil
	})})
	t.Cleanup(func() { s.Close() })
	albums := recstore.MustRegister[Album](s, &recstore.ModelOptions{Serializer: seedSerializer()})
	recstore.MustRegister[Label](s, nil)
	recstore.MustRegister[Track](s, nil)
	return s, albums
}

// An adapter's answer goes through the type's serializer.
func TestFindUsesTheSerializer(t *testing.T) {
	_, albums := restStore(t, func(req *recstore.Request) string {
		return `{"album": {"id": ` + req.ID + `, "title": "REST", "song_count": 3}}`
	})
	a, err := albums.Find(context.Background(), "4", noBackground)
	require.NoError(t, err)
	assert.Equal(t, Album{ID: "4", Title: "REST", SongCount: 3}, a)
}

// A REST backend may answer a Find with an array: the record asked for is
// the answer and the others land as sideloads, as Ember's RESTSerializer
// does. An array without it is still the wrong answer.
func TestFindRESTArrayAnswer(t *testing.T) {
	s, albums := restStore(t, func(*recstore.Request) string {
		return `{"albums": [{"id": 3, "title": "other"}, {"id": 4, "title": "asked"}, {"id": 5, "title": "another"}]}`
	})
	a, err := albums.Find(context.Background(), "4", noBackground)
	require.NoError(t, err)
	assert.Equal(t, "asked", a.Title)
	assert.Equal(t, []string{"3", "4", "5"}, slices.Sorted(maps.Keys(maps.Collect(albums.All()))), "the others are sideloads")

	before := recstore.Dump(s)
	_, err = albums.Find(context.Background(), "9", noBackground)
	assert.ErrorIs(t, err, recstore.ErrWrongRecord)
	requireUnchanged(t, s, before)
}

func (f *fakeBackend) FindMany(ctx context.Context, req *recstore.Request) ([]byte, error) {
	f.calls.Add(1)
	f.mu.Lock()
	f.seen = append(f.seen, req)
	gate, err := f.gate, f.err
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			f.ctxErr.Store(ctx.Err())
			return nil, ctx.Err()
		}
	}
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := `{"data": [`
	n := 0
	for _, id := range req.IDs {
		if rec, ok := f.records[req.Type+":"+id]; ok {
			if n > 0 {
				out += ","
			}
			n++
			out += rec
		}
	}
	return []byte(out + `]}`), nil
}

// Review cases: each was a bug.

func TestWaitWhileFinding(t *testing.T) {
	fb := newFakeBackend()
	s, albums := findStore(t, fb, nil)
	_, err := albums.Find(context.Background(), "1", nil)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 300 {
				_, err := albums.Find(context.Background(), "1", nil) // starts background reloads
				assert.NoError(t, err)
			}
		})
		wg.Go(func() {
			for range 300 {
				s.Wait() // must neither panic nor hang
			}
		})
	}
	wg.Wait()
	s.Wait()
}

func TestQueryRecordNullChangesNothing(t *testing.T) {
	ad := &queryOnly{payload: `{"data": null, "included": [{"type": "labels", "id": "9", "attributes": {"name": "x"}}]}`}
	s, albums := findStore(t, ad, nil)
	before := recstore.Dump(s)
	_, err := albums.QueryRecord(context.Background(), url.Values{"q": {"x"}})
	assert.ErrorIs(t, err, recstore.ErrNotFound)
	requireUnchanged(t, s, before)
	ad.payload = `{"data": [{"type": "albums", "id": "1"}, {"type": "albums", "id": "2"}]}`
	_, err = albums.QueryRecord(context.Background(), nil)
	assert.ErrorIs(t, err, recstore.ErrBadResponse)
	requireUnchanged(t, s, before)
}

// queryOnly answers queries with payload, after gate if set.
type queryOnly struct {
	recstore.AdapterFunc
	payload string
	gate    chan struct{}
	calls   atomic.Int64 // Query and FindAll calls begun
}

func (q *queryOnly) QueryRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	return []byte(q.payload), nil
}

func (q *queryOnly) Query(ctx context.Context, req *recstore.Request) ([]byte, error) {
	q.calls.Add(1)
	if q.gate != nil {
		<-q.gate // ignores ctx, as a careless adapter might
	}
	return []byte(q.payload), nil
}

func (q *queryOnly) FindAll(ctx context.Context, req *recstore.Request) ([]byte, error) {
	return q.Query(ctx, req)
}

func TestCloseStopsEverything(t *testing.T) {
	// A Find waiting in a coalesced batch fails at once, and the batch is
	// never sent.
	fb := backendWith(3)
	s, albums := findStore(t, fb, &recstore.Options{Coalesce: &recstore.CoalesceOptions{Window: 10 * time.Second}})
	errc := make(chan error, 1)
	go func() { _, err := albums.Find(context.Background(), "1", noBackground); errc <- err }()
	require.Eventually(t, func() bool { return recstore.Waiters(s, "album", "1") == 1 }, 10*time.Second, time.Millisecond, "the Find waits in its batch")
	start := time.Now()
	require.NoError(t, s.Close())
	select {
	case err := <-errc:
		assert.ErrorIs(t, err, recstore.ErrClosed)
	case <-time.After(5 * time.Second):
		t.Fatal("the batched Find did not return after Close")
	}
	assert.Less(t, time.Since(start), 5*time.Second, "Close does not wait out the window")
	time.Sleep(20 * time.Millisecond)
	assert.Zero(t, fb.calls.Load(), "no adapter call after Close")

	// A foreground Query or FindAll whose adapter answers after Close
	// pushes nothing.
	q := &queryOnly{payload: `{"data": [{"type": "albums", "id": "7"}]}`, gate: make(chan struct{})}
	s2, albums2 := findStore(t, q, nil)
	before := recstore.Dump(s2)
	var wg sync.WaitGroup
	var qerr, ferr error
	wg.Go(func() { _, qerr = albums2.Query(context.Background(), nil) })
	wg.Go(func() { _, ferr = albums2.FindAll(context.Background(), nil) })
	require.Eventually(t, func() bool { return q.calls.Load() == 2 }, 10*time.Second, time.Millisecond, "both calls are under way")
	closed := make(chan struct{})
	go func() { s2.Close(); close(closed) }()
	require.Eventually(t, func() bool { return recstore.Closing(s2) }, time.Second, time.Millisecond)
	close(q.gate) // the adapter answers only now
	wg.Wait()
	<-closed
	assert.ErrorIs(t, qerr, recstore.ErrClosed)
	assert.ErrorIs(t, ferr, recstore.ErrClosed)
	requireUnchanged(t, s2, before)
}

func TestCloseReportsNoBackgroundErrors(t *testing.T) {
	fb := newFakeBackend()
	var reports errorLog
	s, albums := findStore(t, fb, &recstore.Options{OnBackgroundError: reports.add})
	_, err := albums.Find(context.Background(), "1", nil)
	require.NoError(t, err)
	fb.gate = make(chan struct{})
	_, err = albums.Find(context.Background(), "1", nil) // a background reload that hangs
	require.NoError(t, err)
	require.Eventually(t, func() bool { return fb.calls.Load() == 2 }, time.Second, time.Millisecond)
	require.NoError(t, s.Close())
	assert.Empty(t, reports.list(), "a reload Close cancelled is not a failure")
}

func TestBackgroundReloadJoiningAForegroundCall(t *testing.T) {
	fb := newFakeBackend()
	s, albums := findStore(t, fb, nil)
	_, err := albums.Find(context.Background(), "1", nil)
	require.NoError(t, err)
	s.Wait()
	fb.set("album:1", `{"type": "album", "id": "1", "attributes": {"title": "fresh"}}`)
	fb.gate = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err := albums.Find(ctx, "1", &recstore.FindOptions{Reload: recstore.ReloadAlways})
		assert.ErrorIs(t, err, context.Canceled)
	}()
	require.Eventually(t, func() bool { return recstore.Waiters(s, "album", "1") == 1 }, 10*time.Second, time.Millisecond)
	_, err = albums.Find(context.Background(), "1", nil) // joins as a background reload
	require.NoError(t, err)
	cancel()
	<-done // the foreground caller has gone
	close(fb.gate)
	s.Wait()
	assert.EqualValues(t, 2, fb.calls.Load(), "the reload joined the foreground call")
	a, _ := albums.Peek("1")
	assert.Equal(t, "fresh", a.Title, "the background reload was not lost with its foreground caller")
}

func TestFindAllFromCacheWithoutAdapter(t *testing.T) {
	s, albums, _, _, _ := newStore(t, nil)
	_, err := s.Push(`{"data": {"type": "album", "id": "1"}}`)
	require.NoError(t, err)
	got, err := albums.FindAll(context.Background(), nil)
	require.NoError(t, err, "the Store holds albums: that is the answer")
	assert.Len(t, got, 1)
	_, err = albums.FindAll(context.Background(), &recstore.FindOptions{Reload: recstore.ReloadAlways})
	assert.ErrorIs(t, err, recstore.ErrNoAdapter)
	s2, albums2, _, _, _ := newStore(t, nil)
	_ = s2
	_, err = albums2.FindAll(context.Background(), nil)
	assert.ErrorIs(t, err, recstore.ErrNoAdapter, "nothing cached: the backend must be asked")
}

func TestFindOfAnEmptyAnswer(t *testing.T) {
	s, albums := findStore(t, recstore.AdapterFunc(func(context.Context, *recstore.Request) ([]byte, error) {
		return nil, nil // a 204
	}), nil)
	before := recstore.Dump(s)
	_, err := albums.Find(context.Background(), "1", nil)
	assert.ErrorIs(t, err, recstore.ErrNotFound)
	requireUnchanged(t, s, before)
}

// A Find whose callers have all gone, or whose Store is closing, stops
// once the answer is normalized rather than push what nobody waits for;
// so do a FindAll and a Query whose caller gave up.
func TestAbandonedAnswerIsNotPushed(t *testing.T) {
	tests := []struct {
		name    string
		call    func(context.Context, *recstore.Store, *recstore.Model[Album]) error
		close   bool // Close, rather than cancel the caller's context
		wantErr error
	}{
		{"Find, callers left", func(ctx context.Context, _ *recstore.Store, albums *recstore.Model[Album]) error {
			_, err := albums.Find(ctx, "1", nil)
			return err
		}, false, context.Canceled},
		{"Find, Close", func(ctx context.Context, _ *recstore.Store, albums *recstore.Model[Album]) error {
			_, err := albums.Find(ctx, "1", nil)
			return err
		}, true, recstore.ErrClosed},
		{"FindAll, caller left", func(ctx context.Context, _ *recstore.Store, albums *recstore.Model[Album]) error {
			_, err := albums.FindAll(ctx, nil)
			return err
		}, false, context.Canceled},
		{"Query, caller left", func(ctx context.Context, _ *recstore.Store, albums *recstore.Model[Album]) error {
			_, err := albums.Query(ctx, nil)
			return err
		}, false, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			entered, gate := make(chan struct{}), make(chan struct{})
			ser := recstore.SerializerFunc(func(s *recstore.Store, typ string, payload []byte) (*recstore.Document, error) {
				close(entered)
				<-gate
				return (&recstore.JSONAPISerializer{}).Normalize(s, typ, payload)
			})
			s, albums := findStore(t, newFakeBackend(), &recstore.Options{Serializer: ser})
			before := recstore.Dump(s)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			called := make(chan error)
			go func() { called <- tt.call(ctx, s, albums) }()
			<-entered
			closed := make(chan struct{})
			if tt.close {
				go func() { s.Close(); close(closed) }()
				require.Eventually(t, func() bool { return recstore.Closing(s) }, 10*time.Second, time.Millisecond)
			} else {
				cancel()
				close(closed)
			}
			var err error
			if !tt.close && strings.HasPrefix(tt.name, "Find,") {
				// A Find leaves at once; wait for it to have left, so that
				// nobody waits when the answer is ready.
				err = <-called
				close(gate)
			} else {
				close(gate)
				err = <-called
			}
			require.ErrorIs(t, err, tt.wantErr)
			<-closed
			require.Eventually(t, func() bool { return recstore.Running(s) == 0 }, 10*time.Second, time.Millisecond)
			requireUnchanged(t, s, before)
		})
	}
}

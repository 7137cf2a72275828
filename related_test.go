package recstore_test

import (
	"context"
	"errors"
	"fmt"
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

// relBackend serves JSON:API documents by link, and records by key, and
// counts the calls made to it. It is a LinkFinder and a ManyFinder.
type relBackend struct {
	links   map[string]string       // link → document
	records map[recstore.Key]string // type:id → resource object
	gate    chan struct{}           // if not nil, calls wait for it to close (or their ctx)
	panicOn string                  // an op that panics
	mu      sync.Mutex
	calls   []string     // "FindLink /x", "FindMany track 2,3", "FindRecord track 2"
	ctxErrs atomic.Int32 // calls whose ctx ended while they waited
	started chan string  // if not nil, receives each call as it starts
}

func (b *relBackend) call(ctx context.Context, name string) error {
	b.mu.Lock()
	b.calls = append(b.calls, name)
	b.mu.Unlock()
	if b.started != nil {
		select {
		case b.started <- name:
		default:
			panic("unexpected call " + name)
		}
	}
	if strings.HasPrefix(name, b.panicOn+" ") && b.panicOn != "" {
		panic("backend exploded")
	}
	if b.gate != nil {
		select {
		case <-b.gate:
		case <-ctx.Done():
			b.ctxErrs.Add(1)
			return ctx.Err()
		}
	}
	return nil
}

func (b *relBackend) Calls() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.calls)
}

func (b *relBackend) FindRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	if err := b.call(ctx, "FindRecord "+req.Type+" "+req.ID); err != nil {
		return nil, err
	}
	r, ok := b.records[recstore.Key{Type: req.Type, ID: req.ID}]
	if !ok {
		return nil, fmt.Errorf("%s:%s: %w", req.Type, req.ID, recstore.ErrNotFound)
	}
	return []byte(`{"data": ` + r + `}`), nil
}

func (b *relBackend) FindMany(ctx context.Context, req *recstore.Request) ([]byte, error) {
	if err := b.call(ctx, "FindMany "+req.Type+" "+strings.Join(req.IDs, ",")); err != nil {
		return nil, err
	}
	var rs []string
	for _, id := range req.IDs {
		if r, ok := b.records[recstore.Key{Type: req.Type, ID: id}]; ok {
			rs = append(rs, r)
		}
	}
	return []byte(`{"data": [` + strings.Join(rs, ",") + `]}`), nil
}

func (b *relBackend) FindLink(ctx context.Context, req *recstore.Request) ([]byte, error) {
	if err := b.call(ctx, "FindLink "+req.Type+" "+req.ID+" "+req.Relationship+" "+req.Link); err != nil {
		return nil, err
	}
	d, ok := b.links[req.Link]
	if !ok {
		return nil, fmt.Errorf("%s: %w", req.Link, recstore.ErrNotFound)
	}
	return []byte(d), nil
}

// Adapters with fewer capabilities.
type (
	noLinkBackend struct{ b *relBackend } // FindRecord and FindMany
	oneBackend    struct{ b *relBackend } // FindRecord only
)

func (a noLinkBackend) FindRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	return a.b.FindRecord(ctx, req)
}
func (a noLinkBackend) FindMany(ctx context.Context, req *recstore.Request) ([]byte, error) {
	return a.b.FindMany(ctx, req)
}
func (a oneBackend) FindRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	return a.b.FindRecord(ctx, req)
}

// The backend's records.
var relRecords = map[recstore.Key]string{
	{Type: "track", ID: "1"}: `{"type": "track", "id": "1", "attributes": {"title": "one"}}`,
	{Type: "track", ID: "2"}: `{"type": "track", "id": "2", "attributes": {"title": "two"}}`,
	{Type: "track", ID: "3"}: `{"type": "track", "id": "3", "attributes": {"title": "three"}}`,
	{Type: "label", ID: "7"}: `{"type": "label", "id": "7", "attributes": {"name": "Sub Pop"}}`,
}

// The backend's related links.
var relLinks = map[string]string{
	"/albums/1/tracks": `{"data": [
		{"type": "track", "id": "3", "attributes": {"title": "three"}, "relationships": {"album": {"data": {"type": "album", "id": "1"}}}},
		{"type": "track", "id": "2", "attributes": {"title": "two"}}
	], "included": [{"type": "label", "id": "7", "attributes": {"name": "Sub Pop"}}]}`,
	"/albums/1/label":       `{"data": {"type": "label", "id": "7", "attributes": {"name": "Sub Pop"}}}`,
	"/albums/1/no-label":    `{"data": null}`,
	"/albums/1/tracks-meta": `{"data": [], "meta": {"total": 0}, "links": {"self": "/albums/1/tracks-meta?page=1"}}`,
	"/tracks-as-one":        `{"data": {"type": "track", "id": "2"}}`,
	"/tracks-as-null":       `{"data": null}`,
	"/label-as-array":       `{"data": [{"type": "label", "id": "7"}]}`,
	"/tracks-wrong-type":    `{"data": [{"type": "track", "id": "2"}, {"type": "label", "id": "7"}]}`,
	"/tracks-no-id":         `{"data": [{"type": "track", "attributes": {"title": "x"}}]}`,
	"/empty":                ` `,
}

func relStore(t *testing.T, ad recstore.Adapter, opts *recstore.Options) (*recstore.Store, *recstore.Model[Album]) {
	t.Helper()
	if opts == nil {
		opts = &recstore.Options{}
	}
	opts.Adapter = ad
	s, albums, _, _, _ := newStore(t, opts)
	t.Cleanup(func() { s.Close() })
	return s, albums
}

func relKeys(typ string, ids ...string) []recstore.Key {
	var out []recstore.Key
	for _, id := range ids {
		out = append(out, recstore.Key{Type: typ, ID: id})
	}
	return out
}

func TestStore_LoadRelated(t *testing.T) {
	album1 := recstore.Key{Type: "album", ID: "1"}
	tests := []struct {
		name      string
		doc       string // pushed first
		adapter   func(b *relBackend) recstore.Adapter
		rel       string
		wantKeys  []recstore.Key
		wantCalls []string
		wantLinks map[string]any
		wantMeta  map[string]any
		wantErr   error
		reason    string
	}{
		{name: "to-many through its link, with included",
			doc: `{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"links": {"related": "/albums/1/tracks"}}}}}`,
			rel: "tracks", wantKeys: relKeys("track", "3", "2"),
			wantCalls: []string{"FindLink album 1 tracks /albums/1/tracks"},
			wantLinks: map[string]any{"related": "/albums/1/tracks"},
			reason:    "a links-only relationship loads, in the answer's order"},
		{name: "to-many link replaces the data it had",
			doc: `{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "1"}], "links": {"related": {"href": "/albums/1/tracks"}}}}}}`,
			rel: "tracks", wantKeys: relKeys("track", "3", "2"),
			wantCalls: []string{"FindLink album 1 tracks /albums/1/tracks"},
			wantLinks: map[string]any{"related": map[string]any{"href": "/albums/1/tracks"}}},
		{name: "to-one through its link",
			doc: `{"data": {"type": "album", "id": "1", "relationships": {"label": {"links": {"related": "/albums/1/label"}}}}}`,
			rel: "label", wantKeys: relKeys("label", "7"),
			wantCalls: []string{"FindLink album 1 label /albums/1/label"},
			wantLinks: map[string]any{"related": "/albums/1/label"}},
		{name: "to-one link answering null",
			doc: `{"data": {"type": "album", "id": "1", "relationships": {"label": {"data": {"type": "label", "id": "7"}, "links": {"related": "/albums/1/no-label"}}}}}`,
			rel: "label", wantKeys: nil,
			wantCalls: []string{"FindLink album 1 label /albums/1/no-label"},
			wantLinks: map[string]any{"related": "/albums/1/no-label"}},
		{name: "the answer's meta and links become the relationship's, keeping related",
			doc: `{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"links": {"related": "/albums/1/tracks-meta", "self": "/r"}, "meta": {"old": true}}}}}`,
			rel: "tracks", wantKeys: nil,
			wantCalls: []string{"FindLink album 1 tracks /albums/1/tracks-meta"},
			wantLinks: map[string]any{"related": "/albums/1/tracks-meta", "self": "/albums/1/tracks-meta?page=1"},
			wantMeta:  map[string]any{"total": 0.0}},
		{name: "no link: the missing members in one FindMany",
			doc: `{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "2"}, {"type": "track", "id": "1"}, {"type": "track", "id": "3"}]}}},
				"included": [{"type": "track", "id": "1"}]}`,
			rel: "tracks", wantKeys: relKeys("track", "2", "1", "3"),
			wantCalls: []string{"FindMany track 2,3"}},
		{name: "no link, no ManyFinder: one FindRecord each",
			adapter: func(b *relBackend) recstore.Adapter { return oneBackend{b} },
			doc:     `{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "2"}, {"type": "track", "id": "3"}]}}}}`,
			rel:     "tracks", wantKeys: relKeys("track", "2", "3"),
			wantCalls: []string{"FindRecord track 2", "FindRecord track 3"}},
		{name: "one missing member: FindRecord",
			doc: `{"data": {"type": "album", "id": "1", "relationships": {"label": {"data": {"type": "label", "id": "7"}}}}}`,
			rel: "label", wantKeys: relKeys("label", "7"),
			wantCalls: []string{"FindRecord label 7"}},
		{name: "a link but no LinkFinder: the missing members",
			adapter: func(b *relBackend) recstore.Adapter { return noLinkBackend{b} },
			doc:     `{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "2"}, {"type": "track", "id": "3"}], "links": {"related": "/albums/1/tracks"}}}}}`,
			rel:     "tracks", wantKeys: relKeys("track", "2", "3"),
			wantCalls: []string{"FindMany track 2,3"},
			wantLinks: map[string]any{"related": "/albums/1/tracks"}},
		{name: "a link no adapter can follow, and no data",
			adapter: func(b *relBackend) recstore.Adapter { return noLinkBackend{b} },
			doc:     `{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"links": {"related": "/albums/1/tracks"}}}}}`,
			rel:     "tracks", wantErr: recstore.ErrNotSupported},
		{name: "nothing to load",
			doc: `{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "1"}]}}}, "included": [{"type": "track", "id": "1"}]}`,
			rel: "tracks", wantKeys: relKeys("track", "1"), wantCalls: nil},
		{name: "unknown relationship",
			doc: `{"data": {"type": "album", "id": "1"}}`,
			rel: "producer", wantErr: recstore.ErrUnknownRelationship},
		{name: "owner not loaded",
			doc: `{"data": {"type": "label", "id": "7"}}`,
			rel: "tracks", wantErr: recstore.ErrNotLoaded},
		{name: "the backend leaves a member out",
			doc: `{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "2"}, {"type": "track", "id": "9"}]}}}}`,
			rel: "tracks", wantCalls: []string{"FindMany track 2,9"}, wantErr: recstore.ErrNotFound},
		{name: "the link is not found",
			doc: `{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"links": {"related": "/gone"}}}}}`,
			rel: "tracks", wantCalls: []string{"FindLink album 1 tracks /gone"}, wantErr: recstore.ErrNotFound},
		{name: "an empty answer",
			doc: `{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"links": {"related": "/empty"}}}}}`,
			rel: "tracks", wantCalls: []string{"FindLink album 1 tracks /empty"}, wantErr: recstore.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := &relBackend{links: relLinks, records: relRecords}
			var ad recstore.Adapter = b
			if tt.adapter != nil {
				ad = tt.adapter(b)
			}
			s, _ := relStore(t, ad, nil)
			_, err := s.Push(tt.doc)
			require.NoError(t, err)
			before := recstore.Dump(s)
			r, err := s.LoadRelated(context.Background(), album1, tt.rel)
			assert.ElementsMatch(t, tt.wantCalls, b.Calls(), "adapter calls")
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				if !errors.Is(tt.wantErr, recstore.ErrNotFound) {
					requireUnchanged(t, s, before)
				}
				return
			}
			require.NoError(t, err)
			assert.True(t, r.Known, "the relationship is known after a load")
			assert.Equal(t, tt.wantKeys, r.Keys, tt.reason)
			assert.Empty(t, r.NotLoaded, "every member is loaded")
			assert.Equal(t, tt.wantLinks, r.Links)
			assert.Equal(t, tt.wantMeta, r.Meta)
			require.NoError(t, recstore.CheckInverses(s))
			for _, k := range r.Keys {
				assert.True(t, s.Has(k), "%v is loaded", k)
			}
		})
	}
}

// Wrong answers through a link fail with a typed error and push nothing.
func TestStore_LoadRelatedWrongAnswers(t *testing.T) {
	tests := []struct {
		name, rel, link string
		wantErr         error
		pointer         string
	}{
		{name: "to-one answered with an array", rel: "label", link: "/label-as-array", wantErr: recstore.ErrBadResponse},
		{name: "to-many answered with one resource", rel: "tracks", link: "/tracks-as-one", wantErr: recstore.ErrBadResponse},
		{name: "to-many answered with null", rel: "tracks", link: "/tracks-as-null", wantErr: recstore.ErrBadResponse},
		{name: "a record of the wrong type", rel: "tracks", link: "/tracks-wrong-type", wantErr: recstore.ErrInvalidDocument, pointer: "/data/1/type"},
		{name: "a resource without an id", rel: "tracks", link: "/tracks-no-id", wantErr: recstore.ErrInvalidDocument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := &relBackend{links: relLinks, records: relRecords}
			s, _ := relStore(t, b, nil)
			_, err := s.Push(`{"data": {"type": "album", "id": "1", "relationships": {"` + tt.rel + `": {"links": {"related": "` + tt.link + `"}}}}}`)
			require.NoError(t, err)
			before := recstore.Dump(s)
			_, err = s.LoadRelated(context.Background(), recstore.Key{Type: "album", ID: "1"}, tt.rel)
			require.ErrorIs(t, err, tt.wantErr)
			var ae *recstore.AdapterError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, "FindLink", ae.Op)
			if tt.pointer != "" {
				var de *recstore.DocumentError
				require.ErrorAs(t, err, &de)
				assert.Equal(t, tt.pointer, de.Pointer)
			}
			requireUnchanged(t, s, before)
		})
	}
}

// A link load keeps inverses in step on both sides: tracks that joined
// name the album, one that left no longer does.
func TestStore_LoadRelatedInverses(t *testing.T) {
	b := &relBackend{links: relLinks, records: relRecords}
	s, albums := relStore(t, b, nil)
	_, err := s.Push(`{"data": {"type": "album", "id": "1", "attributes": {"title": "A"},
		"relationships": {"tracks": {"data": [{"type": "track", "id": "1"}], "links": {"related": "/albums/1/tracks"}}}},
		"included": [{"type": "track", "id": "1"}]}`)
	require.NoError(t, err)
	a, err := albums.LoadRelated(context.Background(), "1", "tracks")
	require.NoError(t, err)
	assert.Equal(t, "A", a.Title, "the album's own attributes are untouched")
	var titles []string
	for _, tr := range a.Tracks {
		titles = append(titles, tr.Title)
	}
	assert.Equal(t, []string{"three", "two"}, titles, "Model.LoadRelated returns the record with the relation filled")
	for id, want := range map[string]recstore.Key{"1": {}, "2": {Type: "album", ID: "1"}, "3": {Type: "album", ID: "1"}} {
		r, ok := s.Related(recstore.Key{Type: "track", ID: id}, "album")
		require.True(t, ok)
		var got recstore.Key
		if len(r.Keys) > 0 {
			got = r.Keys[0]
		}
		assert.Equal(t, want, got, "track %s's album", id)
	}
	require.NoError(t, recstore.CheckInverses(s))
	_, err = albums.LoadRelated(context.Background(), "1", "producer")
	require.ErrorIs(t, err, recstore.ErrUnknownRelationship)
	_, err = albums.LoadRelated(context.Background(), "9", "tracks")
	require.ErrorIs(t, err, recstore.ErrNotLoaded)
}

// Concurrent loads of one relationship share one adapter call.
func TestStore_LoadRelatedSharesOneCall(t *testing.T) {
	for _, tt := range []struct{ name, doc string }{
		{"link", `{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"links": {"related": "/albums/1/tracks"}}}}}`},
		{"members", `{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "2"}, {"type": "track", "id": "3"}]}}}}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := &relBackend{links: relLinks, records: relRecords, gate: make(chan struct{}), started: make(chan string, 1)}
			s, _ := relStore(t, b, nil)
			_, err := s.Push(tt.doc)
			require.NoError(t, err)
			const n = 50
			var wg sync.WaitGroup
			errs := make(chan error, n+1)
			load := func() {
				_, err := s.LoadRelated(context.Background(), recstore.Key{Type: "album", ID: "1"}, "tracks")
				errs <- err
			}
			wg.Go(load)
			<-b.started // the first call is under way
			for range n - 1 {
				wg.Go(load)
			}
			if tt.name == "link" {
				require.Eventually(t, func() bool { return recstore.RelWaiters(s, recstore.Key{Type: "album", ID: "1"}, "tracks") == n }, 10*time.Second, time.Millisecond)
			} else {
				require.Eventually(t, func() bool { return recstore.Waiters(s, "track", "3") == n }, 10*time.Second, time.Millisecond)
				// A Find of a member joins the same call.
				wg.Go(func() {
					_, err := s.Find(context.Background(), recstore.Key{Type: "track", ID: "2"}, noBackground)
					errs <- err
				})
				require.Eventually(t, func() bool { return recstore.Waiters(s, "track", "2") == n+1 }, 10*time.Second, time.Millisecond)
			}
			close(b.gate)
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			assert.Len(t, b.Calls(), 1, "%d loads of one relationship make one adapter call: %v", n, b.Calls())
			r, _ := s.Related(recstore.Key{Type: "album", ID: "1"}, "tracks")
			assert.Empty(t, r.NotLoaded)
			assert.Equal(t, -1, recstore.RelWaiters(s, recstore.Key{Type: "album", ID: "1"}, "tracks"), "the flight is gone")
		})
	}
}

// Each caller leaves on its own ctx; the call is cancelled when every
// caller has gone, nothing lands, and a later load starts afresh.
func TestStore_LoadRelatedCancellation(t *testing.T) {
	for _, tt := range []struct{ name, doc, wantCall string }{
		{"link", `{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"links": {"related": "/albums/1/tracks"}}}}}`, "FindLink album 1 tracks /albums/1/tracks"},
		{"members", `{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "2"}, {"type": "track", "id": "3"}]}}}}`, "FindMany track 2,3"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := &relBackend{links: relLinks, records: relRecords, gate: make(chan struct{}), started: make(chan string, 4)}
			s, _ := relStore(t, b, nil)
			_, err := s.Push(tt.doc)
			require.NoError(t, err)
			before := recstore.Dump(s)
			k := recstore.Key{Type: "album", ID: "1"}
			load := func(ctx context.Context) error { _, err := s.LoadRelated(ctx, k, "tracks"); return err }

			// Two callers; both leave; the call is cancelled.
			ctx1, cancel1 := context.WithCancel(context.Background())
			ctx2, cancel2 := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			var err1, err2 error
			wg.Go(func() { err1 = load(ctx1) })
			assert.Equal(t, tt.wantCall, <-b.started)
			wg.Go(func() { err2 = load(ctx2) })
			waiting := func(n int) func() bool {
				return func() bool {
					if tt.name == "link" {
						return recstore.RelWaiters(s, k, "tracks") == n
					}
					return recstore.Waiters(s, "track", "2") == n
				}
			}
			require.Eventually(t, waiting(2), 10*time.Second, time.Millisecond)
			cancel1()
			require.Eventually(t, waiting(1), 10*time.Second, time.Millisecond)
			assert.Zero(t, b.ctxErrs.Load(), "one caller leaving does not cancel the call")
			cancel2()
			wg.Wait()
			require.ErrorIs(t, err1, context.Canceled)
			require.ErrorIs(t, err2, context.Canceled)
			require.Eventually(t, func() bool { return recstore.Running(s) == 0 }, 10*time.Second, time.Millisecond)
			assert.EqualValues(t, 1, b.ctxErrs.Load(), "the adapter's ctx is cancelled once every caller has gone")
			requireUnchanged(t, s, before)

			// A later load starts a new call, which lands.
			close(b.gate)
			require.NoError(t, load(context.Background()))
			<-b.started
			assert.Len(t, b.Calls(), 2)
			r, _ := s.Related(k, "tracks")
			assert.Empty(t, r.NotLoaded)
			assert.Len(t, r.Keys, 2)
		})
	}
}

// A panic in the adapter reaches the caller as an error; the Store is as
// it was and keeps working.
func TestStore_LoadRelatedPanickingAdapter(t *testing.T) {
	for _, tt := range []struct{ name, doc, op string }{
		{"link", `{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"links": {"related": "/albums/1/tracks"}}}}}`, "FindLink"},
		{"members", `{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "2"}, {"type": "track", "id": "3"}]}}}}`, "FindMany"},
		{"member", `{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "2"}]}}}}`, "FindRecord"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := &relBackend{links: relLinks, records: relRecords, panicOn: tt.op}
			s, _ := relStore(t, b, nil)
			_, err := s.Push(tt.doc)
			require.NoError(t, err)
			before := recstore.Dump(s)
			_, err = s.LoadRelated(context.Background(), recstore.Key{Type: "album", ID: "1"}, "tracks")
			require.ErrorIs(t, err, recstore.ErrPanic)
			var pe *recstore.PanicError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tt.op, pe.Op)
			assert.Equal(t, "backend exploded", pe.Value)
			requireUnchanged(t, s, before)
			b.panicOn = ""
			_, err = s.LoadRelated(context.Background(), recstore.Key{Type: "album", ID: "1"}, "tracks")
			require.NoError(t, err, "the Store works after the panic")
		})
	}
}

// A panic in the related model's Serializer, pushing the answer, is
// recovered too.
func TestStore_LoadRelatedPanickingSerializer(t *testing.T) {
	b := &relBackend{links: relLinks, records: relRecords}
	s := recstore.New(&recstore.Options{Adapter: b})
	defer s.Close()
	recstore.MustRegister[Album](s, nil)
	recstore.MustRegister[Label](s, nil)
	recstore.MustRegister[Track](s, &recstore.ModelOptions{Serializer: recstore.SerializerFunc(func(*recstore.Store, string, []byte) (*recstore.Document, error) {
		panic("serializer exploded")
	})})
	_, err := s.Push(`{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"links": {"related": "/albums/1/tracks"}}}}}`)
	require.NoError(t, err)
	before := recstore.Dump(s)
	_, err = s.LoadRelated(context.Background(), recstore.Key{Type: "album", ID: "1"}, "tracks")
	var pe *recstore.PanicError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "PushPayload", pe.Op)
	requireUnchanged(t, s, before)
}

// Close cancels a load under way, which fails with ErrClosed; once Close
// returns no adapter call is running, and later loads fail at once.
func TestStore_LoadRelatedClose(t *testing.T) {
	for _, tt := range []struct{ name, doc string }{
		{"link", `{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"links": {"related": "/albums/1/tracks"}}}}}`},
		{"members", `{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "2"}, {"type": "track", "id": "3"}]}}}}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := &relBackend{links: relLinks, records: relRecords, gate: make(chan struct{}), started: make(chan string, 1)}
			s, _ := relStore(t, b, nil)
			_, err := s.Push(tt.doc)
			require.NoError(t, err)
			before := recstore.Dump(s)
			var wg sync.WaitGroup
			var loadErr error
			wg.Go(func() {
				_, loadErr = s.LoadRelated(context.Background(), recstore.Key{Type: "album", ID: "1"}, "tracks")
			})
			<-b.started
			require.NoError(t, s.Close())
			assert.Zero(t, recstore.Running(s), "Close waited for the call")
			assert.EqualValues(t, 1, b.ctxErrs.Load(), "Close cancelled the adapter's ctx")
			wg.Wait()
			require.ErrorIs(t, loadErr, recstore.ErrClosed)
			requireUnchanged(t, s, before)
			_, err = s.LoadRelated(context.Background(), recstore.Key{Type: "album", ID: "1"}, "tracks")
			require.ErrorIs(t, err, recstore.ErrClosed)
		})
	}
}

// An answer that lands after its record was unloaded is not pushed: it
// would bring the record back with nothing but that relationship.
func TestStore_LoadRelatedOwnerUnloaded(t *testing.T) {
	b := &relBackend{links: relLinks, records: relRecords, gate: make(chan struct{}), started: make(chan string, 1)}
	s, albums := relStore(t, b, nil)
	_, err := s.Push(`{"data": {"type": "album", "id": "1", "relationships": {"label": {"links": {"related": "/albums/1/label"}}}}}`)
	require.NoError(t, err)
	var wg sync.WaitGroup
	var loadErr error
	wg.Go(func() {
		_, loadErr = s.LoadRelated(context.Background(), recstore.Key{Type: "album", ID: "1"}, "label")
	})
	<-b.started
	require.NoError(t, albums.Unload("1"))
	before := recstore.Dump(s)
	close(b.gate)
	wg.Wait()
	require.ErrorIs(t, loadErr, recstore.ErrNotLoaded)
	requireUnchanged(t, s, before)
	assert.False(t, albums.Has("1"))
}

// A ctx already done returns at once, with no call.
func TestStore_LoadRelatedDoneContext(t *testing.T) {
	b := &relBackend{links: relLinks, records: relRecords}
	s, _ := relStore(t, b, nil)
	_, err := s.Push(`{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"links": {"related": "/albums/1/tracks"}}}}}`)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.LoadRelated(ctx, recstore.Key{Type: "album", ID: "1"}, "tracks")
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, b.Calls())
	_, err = s.LoadRelated(context.Background(), recstore.Key{Type: "nope", ID: "1"}, "tracks")
	require.ErrorIs(t, err, recstore.ErrUnknownType)
}

// Key and []Key relations may hold any type: the answer is read by the
// application's serializer, and its types are not restricted.
func TestStore_LoadRelatedKeyRelation(t *testing.T) {
	b := &relBackend{links: map[string]string{
		"/kinds/5/refs": `{"data": [{"type": "label", "id": "7", "attributes": {"name": "Sub Pop"}}, {"type": "track", "id": "2"}]}`,
	}, records: relRecords}
	s, _ := relStore(t, b, nil)
	_, err := s.Push(`{"data": {"type": "kinds", "id": "5", "relationships": {"refs": {"links": {"related": "/kinds/5/refs"}}}}}`)
	require.NoError(t, err)
	r, err := s.LoadRelated(context.Background(), recstore.Key{Type: "kinds", ID: "5"}, "refs")
	require.NoError(t, err)
	assert.Equal(t, []recstore.Key{{Type: "label", ID: "7"}, {Type: "track", ID: "2"}}, r.Keys)
	assert.Empty(t, r.NotLoaded)
}

// Member loads go out as coalesced batches do: FindMany calls of at most
// MaxBatch ids (a group of one by FindRecord), per member type.
func TestStore_LoadRelatedBatches(t *testing.T) {
	b := &relBackend{links: relLinks, records: relRecords}
	s, _ := relStore(t, b, &recstore.Options{Coalesce: &recstore.CoalesceOptions{MaxBatch: 2}})
	_, err := s.Push(`{"data": [
		{"type": "album", "id": "1", "relationships": {"tracks": {"data": [{"type": "track", "id": "1"}, {"type": "track", "id": "2"}, {"type": "track", "id": "3"}]}}},
		{"type": "kinds", "id": "5", "relationships": {"refs": {"data": [{"type": "track", "id": "1"}, {"type": "label", "id": "7"}, {"type": "track", "id": "1"}]}}}]}`)
	require.NoError(t, err)
	r, err := s.LoadRelated(context.Background(), recstore.Key{Type: "album", ID: "1"}, "tracks")
	require.NoError(t, err)
	assert.Empty(t, r.NotLoaded)
	assert.ElementsMatch(t, []string{"FindMany track 1,2", "FindRecord track 3"}, b.Calls())

	require.NoError(t, s.Unload(recstore.Key{Type: "track", ID: "1"}))
	r, err = s.LoadRelated(context.Background(), recstore.Key{Type: "kinds", ID: "5"}, "refs")
	require.NoError(t, err)
	assert.Empty(t, r.NotLoaded)
	assert.ElementsMatch(t, []string{"FindMany track 1,2", "FindRecord track 3", "FindRecord track 1", "FindRecord label 7"}, b.Calls(),
		"a []Key relation loads each type with its own calls, each member once")
}

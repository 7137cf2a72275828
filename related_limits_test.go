package recstore_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A related member that links has but that gives no href is an unusable
// answer from the backend, not "nothing to load": LoadRelated fails with
// an *AdapterError wrapping ErrBadResponse, calls nothing and pushes
// nothing, whether or not the Adapter could follow a link.
func TestStore_LoadRelatedUnusableLink(t *testing.T) {
	tests := []struct {
		name, links string
		wantErr     error // nil: no error, and the relationship stays unknown
		reason      string
	}{
		{name: "href a number", links: `{"related": {"href": 5}}`, wantErr: recstore.ErrBadResponse},
		{name: "empty string", links: `{"related": ""}`, wantErr: recstore.ErrBadResponse},
		{name: "empty href", links: `{"related": {"href": ""}}`, wantErr: recstore.ErrBadResponse},
		{name: "object without href", links: `{"related": {"meta": {"n": 1}}}`, wantErr: recstore.ErrBadResponse},
		{name: "a number", links: `{"related": 5}`, wantErr: recstore.ErrBadResponse},
		{name: "an array", links: `{"related": ["/x"]}`, wantErr: recstore.ErrBadResponse},
		{name: "null", links: `{"related": null, "self": "/self"}`,
			reason: "a null link is no link (JSON:API): nothing to load, and the relationship stays unknown"},
		{name: "no related member", links: `{"self": "/self"}`,
			reason: "only a self link: nothing to load"},
	}
	adapters := map[string]func(b *relBackend) recstore.Adapter{
		"LinkFinder":    func(b *relBackend) recstore.Adapter { return b },
		"no LinkFinder": func(b *relBackend) recstore.Adapter { return oneBackend{b} },
	}
	for _, tt := range tests {
		for adName, ad := range adapters {
			t.Run(tt.name+"/"+adName, func(t *testing.T) {
				t.Parallel()
				b := &relBackend{links: relLinks, records: relRecords}
				s, _ := relStore(t, ad(b), nil)
				_, err := s.Push(`{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"links": ` + tt.links + `}}}}`)
				require.NoError(t, err)
				before := recstore.Dump(s)
				r, err := s.LoadRelated(context.Background(), recstore.Key{Type: "album", ID: "1"}, "tracks")
				requireUnchanged(t, s, before)
				assert.Empty(t, b.Calls(), "links %s called the backend", tt.links)
				if tt.wantErr == nil {
					require.NoError(t, err, tt.reason)
					assert.False(t, r.Known, "links %s: the relationship became known; %s", tt.links, tt.reason)
					return
				}
				require.ErrorIs(t, err, tt.wantErr, "links %s", tt.links)
				var ae *recstore.AdapterError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, "FindLink", ae.Op)
				assert.Equal(t, "album", ae.Type)
				assert.Equal(t, "1", ae.ID)
				assert.NotErrorIs(t, err, recstore.ErrNotSupported)
			})
		}
	}
}

// An answer to the link of a record that was unloaded and pushed again
// while the call ran belongs to the old record: it fails with ErrNotLoaded
// and changes nothing of the new one. Pushes that only update the record
// do not fail the load.
func TestStore_LoadRelatedOwnerReplaced(t *testing.T) {
	tests := []struct {
		name    string
		unload  bool
		wantErr error
		reason  string
	}{
		{name: "unloaded and pushed again", unload: true, wantErr: recstore.ErrNotLoaded,
			reason: "the answer is to the unloaded record's link"},
		{name: "updated", unload: false,
			reason: "an attribute update keeps the record: the answer applies"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := &relBackend{links: relLinks, records: relRecords, gate: make(chan struct{}), started: make(chan string, 1)}
			s, albums := relStore(t, b, nil)
			_, err := s.Push(`{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"links": {"related": "/albums/1/tracks"}}}}}`)
			require.NoError(t, err)
			var wg sync.WaitGroup
			var loadErr error
			var got recstore.Related
			wg.Go(func() {
				got, loadErr = s.LoadRelated(context.Background(), recstore.Key{Type: "album", ID: "1"}, "tracks")
			})
			<-b.started
			if tt.unload {
				require.NoError(t, albums.Unload("1"))
			}
			_, err = s.Push(`{"data": {"type": "album", "id": "1", "attributes": {"title": "new"}}}`)
			require.NoError(t, err)
			before := recstore.Dump(s)
			close(b.gate)
			wg.Wait()
			a, ok := albums.Peek("1")
			require.True(t, ok)
			assert.Equal(t, "new", a.Title)
			if tt.wantErr != nil {
				require.ErrorIs(t, loadErr, tt.wantErr, tt.reason)
				assert.True(t, strings.HasPrefix(loadErr.Error(), "recstore: "), "error %q should start with recstore:", loadErr)
				requireUnchanged(t, s, before)
				r, ok := s.Related(recstore.Key{Type: "album", ID: "1"}, "tracks")
				require.True(t, ok)
				assert.False(t, r.Known, "the new record got the old one's answer")
				return
			}
			require.NoError(t, loadErr, tt.reason)
			assert.Equal(t, relKeys("track", "3", "2"), got.Keys)
		})
	}
}

// ErrNotLoaded for an owner the Store does not hold reads like the
// package's other errors.
func TestStore_LoadRelatedNotLoadedText(t *testing.T) {
	s, albums := relStore(t, &relBackend{}, nil)
	_, err := s.LoadRelated(context.Background(), recstore.Key{Type: "album", ID: "9"}, "tracks")
	require.ErrorIs(t, err, recstore.ErrNotLoaded)
	assert.True(t, strings.HasPrefix(err.Error(), "recstore: "), "Store.LoadRelated error %q should start with recstore:", err)
	_, err = albums.LoadRelated(context.Background(), "9", "tracks")
	require.ErrorIs(t, err, recstore.ErrNotLoaded)
	assert.True(t, strings.HasPrefix(err.Error(), "recstore: "), "Model.LoadRelated error %q should start with recstore:", err)
}

// peakBackend serves every track, and counts the calls running at once.
// It yields while in a call, so that calls a LoadRelated starts together
// overlap.
type peakBackend struct {
	many           bool
	active, peak   atomic.Int32
	findRecord     atomic.Int32
	findMany, seen atomic.Int32
}

func (p *peakBackend) enter() {
	n := p.active.Add(1)
	for {
		old := p.peak.Load()
		if n <= old || p.peak.CompareAndSwap(old, n) {
			break
		}
	}
	for range 50 {
		runtime.Gosched()
	}
	p.active.Add(-1)
}

func (p *peakBackend) FindRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	p.findRecord.Add(1)
	p.seen.Add(1)
	p.enter()
	return fmt.Appendf(nil, `{"data": {"type": %q, "id": %q}}`, req.Type, req.ID), nil
}

type peakManyBackend struct{ *peakBackend }

func (p peakManyBackend) FindMany(ctx context.Context, req *recstore.Request) ([]byte, error) {
	p.findMany.Add(1)
	p.seen.Add(int32(len(req.IDs)))
	p.enter()
	rs := make([]string, len(req.IDs))
	for i, id := range req.IDs {
		rs[i] = fmt.Sprintf(`{"type": %q, "id": %q}`, req.Type, id)
	}
	return []byte(`{"data": [` + strings.Join(rs, ",") + `]}`), nil
}

// LoadRelated makes at most 8 adapter calls at once, however many members
// it loads, and loads them all.
func TestStore_LoadRelatedConcurrencyCap(t *testing.T) {
	const members, limit = 400, 8
	tests := []struct {
		name      string
		many      bool
		wantCalls int32
	}{
		{name: "FindRecord per member", wantCalls: members},
		{name: "FindMany chunks", many: true, wantCalls: members / 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &peakBackend{}
			var ad recstore.Adapter = p
			if tt.many {
				ad = peakManyBackend{p}
			}
			s, _ := relStore(t, ad, &recstore.Options{Coalesce: &recstore.CoalesceOptions{MaxBatch: 2}})
			ids := make([]string, members)
			refs := make([]string, members)
			for i := range ids {
				ids[i] = fmt.Sprint(i)
				refs[i] = fmt.Sprintf(`{"type": "track", "id": "%d"}`, i)
			}
			_, err := s.Push(`{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": [` + strings.Join(refs, ",") + `]}}}}`)
			require.NoError(t, err)
			r, err := s.LoadRelated(context.Background(), recstore.Key{Type: "album", ID: "1"}, "tracks")
			require.NoError(t, err)
			assert.Empty(t, r.NotLoaded)
			assert.Len(t, r.Keys, members)
			assert.LessOrEqual(t, p.peak.Load(), int32(limit), "peak concurrent adapter calls")
			assert.Equal(t, tt.wantCalls, p.findRecord.Load()+p.findMany.Load(), "adapter calls")
			assert.Equal(t, int32(members), p.seen.Load(), "each member asked for once")
		})
	}
}

// Calls waiting their turn are shared with Finds of the same records, and
// are never made once nobody wants them: not after the caller's ctx is
// done, not after Close.
func TestStore_LoadRelatedQueued(t *testing.T) {
	const members, limit = 20, 8
	tests := []struct {
		name    string
		stop    func(s *recstore.Store, cancel context.CancelFunc)
		wantErr error
	}{
		{name: "ctx done", stop: func(_ *recstore.Store, cancel context.CancelFunc) { cancel() }, wantErr: context.Canceled},
		{name: "Close", stop: func(s *recstore.Store, _ context.CancelFunc) { _ = s.Close() }, wantErr: recstore.ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			records := map[recstore.Key]string{}
			refs := make([]string, members)
			for i := range members {
				records[recstore.Key{Type: "track", ID: fmt.Sprint(i)}] = fmt.Sprintf(`{"type": "track", "id": "%d"}`, i)
				refs[i] = fmt.Sprintf(`{"type": "track", "id": "%d"}`, i)
			}
			b := &relBackend{records: records, gate: make(chan struct{}), started: make(chan string, members)}
			s, _ := relStore(t, oneBackend{b}, nil)
			_, err := s.Push(`{"data": {"type": "album", "id": "1", "relationships": {"tracks": {"data": [` + strings.Join(refs, ",") + `]}}}}`)
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var wg sync.WaitGroup
			var loadErr error
			wg.Go(func() {
				_, loadErr = s.LoadRelated(ctx, recstore.Key{Type: "album", ID: "1"}, "tracks")
			})
			for range limit {
				<-b.started
			}
			// The last member waits its turn: a Find of it joins that
			// flight, with a ctx of its own that it then leaves.
			fctx, fcancel := context.WithCancel(context.Background())
			var findErr error
			last := recstore.Key{Type: "track", ID: fmt.Sprint(members - 1)}
			wg.Go(func() { _, findErr = s.Find(fctx, last, nil) })
			for recstore.Waiters(s, last.Type, last.ID) != 2 {
				runtime.Gosched()
			}
			fcancel()
			for recstore.Waiters(s, last.Type, last.ID) != 1 {
				runtime.Gosched()
			}
			tt.stop(s, cancel)
			wg.Wait()
			require.ErrorIs(t, loadErr, tt.wantErr)
			require.ErrorIs(t, findErr, context.Canceled)
			require.NoError(t, s.Close()) // waits for every call
			assert.Len(t, b.Calls(), limit, "calls made: %v; the queued ones should not be", b.Calls())
		})
	}
}

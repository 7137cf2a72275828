package recstore_test

import (
	"sync"
	"testing"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type guardDoc struct {
	ID      string `jsonapi:"primary,guard-doc"`
	Title   string `jsonapi:"attr,title"`
	Version int    `jsonapi:"attr,version"`
}

func TestGuardOrder_LeavesOutStale(t *testing.T) {
	var mu sync.Mutex
	var reports []recstore.Report
	s := recstore.New(&recstore.Options{OnReport: func(r recstore.Report) { mu.Lock(); reports = append(reports, r); mu.Unlock() }})
	docs := recstore.MustRegister[guardDoc](s, nil)
	recstore.MustRegister[Label](s, nil)
	docs.GuardOrder(func(in, held recstore.Versioned[guardDoc]) bool { return in.Record.Version < held.Record.Version })

	_, err := s.Push(`{"data": [{"type": "guard-doc", "id": "1", "attributes": {"title": "v2", "version": 2}},
		{"type": "guard-doc", "id": "2", "attributes": {"title": "v5", "version": 5}}]}`)
	require.NoError(t, err, "records the Store does not hold are never stale")

	keys, err := s.Push(`{"data": [{"type": "guard-doc", "id": "1", "attributes": {"title": "v1", "version": 1}},
		{"type": "guard-doc", "id": "2", "attributes": {"title": "v6", "version": 6}},
		{"type": "label", "id": "7", "attributes": {"name": "lands"}}]}`)
	require.NoError(t, err)
	assert.Len(t, keys, 3, "a resource left out still has its key")
	d1, _ := docs.Peek("1")
	d2, _ := docs.Peek("2")
	assert.Equal(t, "v2", d1.Title, "the older message is left out")
	assert.Equal(t, "v6", d2.Title, "the newer one lands")
	_, ok := s.Peek(recstore.Key{Type: "label", ID: "7"})
	assert.True(t, ok, "the rest of the push lands")
	mu.Lock()
	require.Len(t, reports, 1)
	assert.Equal(t, recstore.ReportStale, reports[0].Kind)
	assert.Equal(t, "guard-doc", reports[0].Type)
	assert.Equal(t, "/data/0", reports[0].Pointer)
	mu.Unlock()

	// A panicking guard fails the push, which changes nothing.
	docs.GuardOrder(func(in, held recstore.Versioned[guardDoc]) bool { panic("guard bug") })
	before := recstore.Dump(s)
	assert.Panics(t, func() {
		_, _ = s.Push(`{"data": {"type": "guard-doc", "id": "1", "attributes": {"title": "x", "version": 9}}}`)
	})
	assert.Equal(t, before, recstore.Dump(s))
	docs.GuardOrder(nil)
	_, err = s.Push(`{"data": {"type": "guard-doc", "id": "1", "attributes": {"title": "x", "version": 0}}}`)
	require.NoError(t, err)
	d1, _ = docs.Peek("1")
	assert.Equal(t, "x", d1.Title, "no guard, no check")
}

// A resource the guard leaves out sends no event, and the others do.
func TestGuardOrder_WithSubscribers(t *testing.T) {
	s := recstore.New(nil)
	defer s.Close()
	docs := recstore.MustRegister[guardDoc](s, nil)
	docs.GuardOrder(func(in, held recstore.Versioned[guardDoc]) bool { return in.Record.Version < held.Record.Version })
	c := newCollector()
	defer docs.Subscribe(c.fn).Close()
	_, err := s.Push(`{"data": {"type": "guard-doc", "id": "1", "attributes": {"version": 2}}}`)
	require.NoError(t, err)
	c.next(t)
	_, err = s.Push(`{"data": [{"type": "guard-doc", "id": "1", "attributes": {"version": 1}}, {"type": "guard-doc", "id": "2", "attributes": {"version": 1}}]}`)
	require.NoError(t, err)
	b := c.next(t)
	require.Len(t, b, 1)
	assert.Equal(t, "2", b[0].Key.ID)
}

// A version in meta works as well as one in the attributes.
func TestGuardOrder_ByMetaVersion(t *testing.T) {
	s := recstore.New(nil)
	docs := recstore.MustRegister[guardDoc](s, nil)
	docs.GuardOrder(func(in, held recstore.Versioned[guardDoc]) bool {
		iv, _ := in.Meta["version"].(float64)
		hv, _ := held.Meta["version"].(float64)
		return in.Meta != nil && iv < hv
	})
	_, err := s.Push(`{"data": {"type": "guard-doc", "id": "1", "attributes": {"title": "v3"}, "meta": {"version": 3}}}`)
	require.NoError(t, err)
	_, err = s.Push(`{"data": {"type": "guard-doc", "id": "1", "attributes": {"title": "v2"}, "meta": {"version": 2}}}`)
	require.NoError(t, err)
	d, _ := docs.Peek("1")
	assert.Equal(t, "v3", d.Title)
	_, err = s.Push(`{"data": {"type": "guard-doc", "id": "1", "attributes": {"title": "v4"}, "meta": {"version": 4}}}`)
	require.NoError(t, err)
	d, _ = docs.Peek("1")
	assert.Equal(t, "v4", d.Title)
	assert.Equal(t, map[string]any{"version": float64(4)}, s.Meta(recstore.Key{Type: "guard-doc", ID: "1"}))
}

// A partial update that does not carry the version is not stale.
func TestGuardOrder_PartialUpdates(t *testing.T) {
	s := recstore.New(nil)
	docs := recstore.MustRegister[guardDoc](s, nil)
	docs.GuardOrder(func(in, held recstore.Versioned[guardDoc]) bool {
		return in.Has("version") && in.Record.Version < held.Record.Version
	})
	_, err := s.Push(`{"data": {"type": "guard-doc", "id": "1", "attributes": {"title": "a", "version": 5}}}`)
	require.NoError(t, err)
	_, err = s.Push(`{"data": {"type": "guard-doc", "id": "1", "attributes": {"title": "b"}}}`)
	require.NoError(t, err)
	d, _ := docs.Peek("1")
	assert.Equal(t, "b", d.Title)
	assert.Equal(t, 5, d.Version)
}

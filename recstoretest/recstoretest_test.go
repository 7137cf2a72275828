package recstoretest_test

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type Album struct {
	ID        string `jsonapi:"primary,album"`
	Title     string `jsonapi:"attr,title"`
	SongCount int    `jsonapi:"attr,songCount"`
	Label     *Label `jsonapi:"relation,label"`
}

type Label struct {
	ID   string `jsonapi:"primary,label"`
	Name string `jsonapi:"attr,name"`
}

// fixtures are written as a JSON:API backend sends them: plural types,
// dasherized members, which the default JSONAPISerializer reads.
const fixtures = `{"data": [
	{"type": "albums", "id": "1", "attributes": {"title": "Fewer Moving Parts", "song-count": 10},
	 "relationships": {"label": {"data": {"type": "labels", "id": "7"}}}},
	{"type": "albums", "id": "2", "attributes": {"title": "Calgary", "song-count": 2}}],
 "included": [{"type": "labels", "id": "7", "attributes": {"name": "Undertow"}}]}`

func newStore(t *testing.T, a recstore.Adapter) (*recstore.Store, *recstore.Model[Album]) {
	t.Helper()
	s := recstore.New(&recstore.Options{Adapter: a})
	t.Cleanup(func() { s.Close() })
	albums := recstore.MustRegister[Album](s, nil)
	recstore.MustRegister[Label](s, nil)
	return s, albums
}

func TestConformance(t *testing.T) {
	m := recstoretest.NewMemoryAdapter(fixtures)
	srv := recstoretest.NewServer(m)
	defer srv.Close()
	for name, a := range map[string]recstore.Adapter{
		"MemoryAdapter": m,
		"HTTPAdapter":   &recstore.HTTPAdapter{Host: srv.URL},
	} {
		t.Run(name, func(t *testing.T) {
			s, _ := newStore(t, nil)
			require.NoError(t, recstoretest.TestAdapter(context.Background(), a, s, "album", "1", "2"))
		})
	}
}

// brokenAdapter finds anything, even what it does not hold, and ignores
// its context.
type brokenAdapter struct{}

func (brokenAdapter) FindRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	return []byte(`{"data": {"type": "albums", "id": "1"}}`), nil
}

func TestConformanceFindsFaults(t *testing.T) {
	s, _ := newStore(t, nil)
	err := recstoretest.TestAdapter(context.Background(), brokenAdapter{}, s, "album", "1", "2")
	require.Error(t, err)
	assert.ErrorContains(t, err, "FindRecord album 2: the payload's data is not exactly that record")
	assert.ErrorContains(t, err, "missing record: want an error wrapping ErrNotFound")
	assert.ErrorContains(t, err, "cancelled context: want an error")
	assert.Error(t, recstoretest.TestAdapter(context.Background(), brokenAdapter{}, s, "album"), "no ids")
}

func TestMemoryAdapterWithStore(t *testing.T) {
	m := recstoretest.NewMemoryAdapter(fixtures)
	_, albums := newStore(t, m)
	a, err := albums.Find(context.Background(), "1", &recstore.FindOptions{BackgroundReload: recstore.ReloadNever})
	require.NoError(t, err)
	assert.Equal(t, "Fewer Moving Parts", a.Title)
	assert.Equal(t, 10, a.SongCount)
	assert.Equal(t, 1, m.Calls("FindRecord"))

	res, err := albums.Query(context.Background(), url.Values{"filter[title]": {"Calgary"}})
	require.NoError(t, err)
	require.Len(t, res.Records, 1)
	assert.Equal(t, "2", res.Records[0].ID)
	_, err = albums.QueryRecord(context.Background(), url.Values{"filter[title]": {"nope"}})
	assert.ErrorIs(t, err, recstore.ErrNotFound)
	all, err := albums.FindAll(context.Background(), &recstore.FindOptions{Reload: recstore.ReloadAlways})
	require.NoError(t, err)
	assert.Len(t, all, 2)
	assert.Equal(t, 4, m.Calls(""))
}

func TestMemoryAdapterWrites(t *testing.T) {
	m := recstoretest.NewMemoryAdapter(fixtures)
	ctx := context.Background()
	out, err := m.CreateRecord(ctx, &recstore.Request{Type: "album", Body: []byte(`{"data": {"type": "albums", "attributes": {"title": "New"}}}`)})
	require.NoError(t, err)
	assert.Contains(t, string(out), `"id":"8"`, "the next id after the highest numeric one")
	assert.True(t, m.Has("albums", "8"))

	out, err = m.UpdateRecord(ctx, &recstore.Request{Type: "album", ID: "8", Body: []byte(`{"data": {"attributes": {"song-count": 3}}}`)})
	require.NoError(t, err)
	assert.Contains(t, string(out), `"song-count":3`)
	assert.Contains(t, string(out), `"title":"New"`, "merged")

	require.NoError(t, m.DeleteRecord(ctx, &recstore.Request{Type: "album", ID: "8"}))
	assert.False(t, m.Has("album", "8"))
	assert.ErrorIs(t, m.DeleteRecord(ctx, &recstore.Request{Type: "album", ID: "8"}), recstore.ErrNotFound)
	_, err = m.UpdateRecord(ctx, &recstore.Request{Type: "album", ID: "8", Body: []byte(`{}`)})
	assert.ErrorIs(t, err, recstore.ErrNotFound)
	_, err = m.CreateRecord(ctx, &recstore.Request{Type: "album", Body: []byte(`not json`)})
	assert.Error(t, err)
}

func TestMemoryAdapterDelaysAndFailures(t *testing.T) {
	m := recstoretest.NewMemoryAdapter(fixtures)
	m.Delay = time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := m.FindRecord(ctx, &recstore.Request{Type: "album", ID: "1"})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 10*time.Second, "the delay honours ctx")

	m2 := recstoretest.NewMemoryAdapter(fixtures)
	boom := errors.New("boom")
	m2.Fail = func(op string, req *recstore.Request) error {
		if op == "FindRecord" && req.ID == "2" {
			return boom
		}
		return nil
	}
	_, err = m2.FindRecord(context.Background(), &recstore.Request{Type: "album", ID: "2"})
	assert.ErrorIs(t, err, boom)
	_, err = m2.FindRecord(context.Background(), &recstore.Request{Type: "album", ID: "1"})
	assert.NoError(t, err)

	assert.Panics(t, func() { recstoretest.NewMemoryAdapter(`{`) })
	assert.Error(t, m2.Load([]byte(`{"data": [{"type": "albums"}]}`)), "a resource needs an id")
}

func TestServer(t *testing.T) {
	m := recstoretest.NewMemoryAdapter(fixtures)
	srv := recstoretest.NewServer(m)
	defer srv.Close()
	_, albums := newStore(t, &recstore.HTTPAdapter{Host: srv.URL})
	a, err := albums.Find(context.Background(), "1", &recstore.FindOptions{Include: []string{"label"}, BackgroundReload: recstore.ReloadNever})
	require.NoError(t, err)
	require.NotNil(t, a.Label, "included through ?include=label")
	assert.Equal(t, "Undertow", a.Label.Name)

	_, err = albums.Find(context.Background(), "404", nil)
	assert.ErrorIs(t, err, recstore.ErrNotFound)
	var he *recstore.HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 404, he.Status)

	h := &recstore.HTTPAdapter{Host: srv.URL}
	out, err := h.CreateRecord(context.Background(), &recstore.Request{Type: "album", Body: []byte(`{"data": {"type": "albums", "attributes": {"title": "Posted"}}}`)})
	require.NoError(t, err)
	assert.Contains(t, string(out), `"Posted"`)
	_, err = h.UpdateRecord(context.Background(), &recstore.Request{Type: "album", ID: "2", Body: []byte(`{"data": {"attributes": {"title": "Patched"}}}`)})
	require.NoError(t, err)
	require.NoError(t, h.DeleteRecord(context.Background(), &recstore.Request{Type: "album", ID: "2"}))
	assert.False(t, m.Has("album", "2"))

	m.Fail = func(string, *recstore.Request) error { return errors.New("injected") }
	_, err = h.FindRecord(context.Background(), &recstore.Request{Type: "album", ID: "1"})
	assert.ErrorIs(t, err, recstore.ErrServer)
}

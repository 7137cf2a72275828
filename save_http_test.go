package recstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The models of the save tests: an album with a label (to-one, no
// inverse), genres (to-many, no inverse) and tracks (to-many, inverse
// track.album), under the usual type names, so that URLs read /albums/1;
// and a model whose type has two words (musicGenre).

type ShAlbum struct {
	ID        string     `jsonapi:"primary,album"`
	Title     string     `jsonapi:"attr,title"`
	SongCount int        `jsonapi:"attr,songCount"`
	Label     *ShLabel   `jsonapi:"relation,label"`
	Genres    []*ShGenre `jsonapi:"relation,genres"`
	Tracks    []*ShTrack `jsonapi:"relation,tracks" recstore:"inverse=album"`
}

type ShLabel struct {
	ID   string `jsonapi:"primary,label"`
	Name string `jsonapi:"attr,name"`
}

type ShGenre struct {
	ID   string `jsonapi:"primary,genre"`
	Name string `jsonapi:"attr,name"`
}

type ShMusicGenre struct {
	ID   string `jsonapi:"primary,musicGenre"`
	Name string `jsonapi:"attr,name"`
}

type ShTrack struct {
	ID    string   `jsonapi:"primary,track"`
	Title string   `jsonapi:"attr,title"`
	Album *ShAlbum `jsonapi:"relation,album"`
}

// shFixtures is the backend the save tests start from: album 1 with
// track 10, label 5 and genre g1; album 2 with no relations.
const shFixtures = `{"data": [
	{"type": "albums", "id": "1", "attributes": {"title": "Kind of Blue", "song-count": 5},
	 "relationships": {"label": {"data": {"type": "labels", "id": "5"}},
	                   "genres": {"data": [{"type": "genres", "id": "g1"}]},
	                   "tracks": {"data": [{"type": "tracks", "id": "10"}]}}},
	{"type": "albums", "id": "2", "attributes": {"title": "Blue Train", "song-count": 5}}],
 "included": [
	{"type": "tracks", "id": "10", "attributes": {"title": "So What"},
	 "relationships": {"album": {"data": {"type": "albums", "id": "1"}}}},
	{"type": "labels", "id": "5", "attributes": {"name": "Columbia"}},
	{"type": "genres", "id": "g1", "attributes": {"name": "Jazz"}},
	{"type": "genres", "id": "g2", "attributes": {"name": "Bop"}}]}`

// shBackends are the two ways the save tests reach the backend: over
// HTTP (an HTTPAdapter against recstoretest.NewServer) and straight
// through the MemoryAdapter.
var shBackends = []string{"http", "memory"}

// shRequest is one request the test server got, and its answer's status.
type shRequest struct {
	Method, Path, ContentType string
	Body                      []byte
	Status                    int
}

// shEnv is a Store saving to a MemoryAdapter, over HTTP or directly, with
// the requests the server got recorded and a hook on the backend's side of
// each save.
type shEnv struct {
	s      *recstore.Store
	albums *recstore.Model[ShAlbum]
	tracks *recstore.Model[ShTrack]
	labels *recstore.Model[ShLabel]
	m      *recstoretest.MemoryAdapter
	http   bool

	mu     sync.Mutex // guards reqs and onSave
	reqs   []shRequest
	onSave func(op string, req *recstore.Request, res map[string]any) error
}

// shStatusWriter records the status a handler answers with.
type shStatusWriter struct {
	http.ResponseWriter
	status int
}

func (w *shStatusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *shStatusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// newShEnv returns a Store over a MemoryAdapter loaded with shFixtures,
// reached through backend ("http" or "memory"); noContent sets the
// adapter's NoContent. Everything is closed at cleanup.
func newShEnv(t *testing.T, backend string, noContent bool) *shEnv {
	t.Helper()
	m := recstoretest.NewMemoryAdapter(shFixtures)
	m.NoContent = noContent
	env := &shEnv{m: m, http: backend == "http"}
	m.OnSave = func(op string, req *recstore.Request, res map[string]any) error {
		env.mu.Lock()
		f := env.onSave
		env.mu.Unlock()
		if f == nil {
			return nil
		}
		return f(op, req, res)
	}
	var ad recstore.Adapter = m
	if env.http {
		inner := recstoretest.NewServer(m)
		t.Cleanup(inner.Close)
		// A front that records each request and its status, and hands it
		// to the real server's handler.
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			sw := &shStatusWriter{ResponseWriter: w}
			inner.Config.Handler.ServeHTTP(sw, r)
			env.mu.Lock()
			env.reqs = append(env.reqs, shRequest{Method: r.Method, Path: r.URL.Path,
				ContentType: r.Header.Get("Content-Type"), Body: body, Status: sw.status})
			env.mu.Unlock()
		}))
		t.Cleanup(srv.Close)
		// The server's own client: another test's server closing
		// http.DefaultTransport's idle connections (httptest does at Close)
		// would break a request of this parallel test.
		ad = &recstore.HTTPAdapter{Host: srv.URL, Client: srv.Client()}
	}
	env.s = recstore.New(&recstore.Options{Adapter: ad})
	t.Cleanup(func() { env.s.Close() })
	var err error
	env.albums, err = recstore.Register[ShAlbum](env.s, nil)
	require.NoError(t, err)
	env.tracks, err = recstore.Register[ShTrack](env.s, nil)
	require.NoError(t, err)
	env.labels, err = recstore.Register[ShLabel](env.s, nil)
	require.NoError(t, err)
	_, err = recstore.Register[ShGenre](env.s, nil)
	require.NoError(t, err)
	_, err = recstore.Register[ShMusicGenre](env.s, nil)
	require.NoError(t, err)
	_, err = env.albums.Find(context.Background(), "1", &recstore.FindOptions{Include: []string{"tracks", "label", "genres"}})
	require.NoError(t, err)
	_, err = env.albums.Find(context.Background(), "2", nil)
	require.NoError(t, err)
	return env
}

// setOnSave sets the backend's side of the next saves (see
// recstoretest.MemoryAdapter.OnSave); nil lets them through.
func (env *shEnv) setOnSave(f func(op string, req *recstore.Request, res map[string]any) error) {
	env.mu.Lock()
	env.onSave = f
	env.mu.Unlock()
}

// hold makes the backend hold every save until release is called (at
// cleanup at the latest), then apply then (if not nil); entered is closed
// when the first save reaches the backend.
func (env *shEnv) hold(t *testing.T, then func(op string, req *recstore.Request, res map[string]any) error) (entered <-chan struct{}, release func()) {
	ent, rel := make(chan struct{}), make(chan struct{})
	var once sync.Once
	env.setOnSave(func(op string, req *recstore.Request, res map[string]any) error {
		once.Do(func() { close(ent) })
		<-rel
		if then != nil {
			return then(op, req, res)
		}
		return nil
	})
	release = sync.OnceFunc(func() { close(rel) })
	t.Cleanup(release)
	return ent, release
}

// saveAsync starts a Save of k and returns where its result arrives.
func (env *shEnv) saveAsync(ctx context.Context, k recstore.Key) <-chan shSaved {
	done := make(chan shSaved, 1)
	go func() {
		nk, err := env.s.Save(ctx, k)
		done <- shSaved{nk, err}
	}()
	return done
}

type shSaved struct {
	key recstore.Key
	err error
}

// writes returns the requests other than GETs the server got.
func (env *shEnv) writes() []shRequest {
	env.mu.Lock()
	defer env.mu.Unlock()
	var out []shRequest
	for _, r := range env.reqs {
		if r.Method != http.MethodGet {
			out = append(out, r)
		}
	}
	return out
}

// backendAttrs returns the attributes the backend holds for typ/id.
func (env *shEnv) backendAttrs(t *testing.T, typ, id string) map[string]any {
	t.Helper()
	b, err := env.m.FindRecord(context.Background(), &recstore.Request{Type: typ, ID: id})
	require.NoError(t, err, "backend FindRecord %s %s", typ, id)
	var doc struct {
		Data struct {
			Attributes map[string]any `json:"attributes"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(b, &doc))
	return doc.Data.Attributes
}

// ids lists the ids of records.
func shIDs[T any](rs []*T, id func(*T) string) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, id(r))
	}
	return out
}

func trackIDs(a ShAlbum) []string {
	return shIDs(a.Tracks, func(t *ShTrack) string { return t.ID })
}

// A Save of a created record creates it: in flight meanwhile, then loaded
// under the backend's id (or the client's), which the Key from Create
// still finds; the backend has it, and the relationships it is in name
// it by its id on both sides.
func TestStore_SaveCreate(t *testing.T) {
	tests := []struct {
		name       string
		album      ShAlbum
		noContent  bool
		wantID     string
		wantLID    bool // Create gives a local identifier
		wantStatus int  // over HTTP
	}{
		{name: "server id", album: ShAlbum{Title: "New", SongCount: 2, Tracks: []*ShTrack{{ID: "10"}}},
			wantID: "11", wantLID: true, wantStatus: http.StatusCreated},
		{name: "server id, NoContent", noContent: true, album: ShAlbum{Title: "New", SongCount: 2, Tracks: []*ShTrack{{ID: "10"}}},
			wantID: "11", wantLID: true, wantStatus: http.StatusCreated},
		{name: "client id", album: ShAlbum{ID: "c1", Title: "New", SongCount: 2, Tracks: []*ShTrack{{ID: "10"}}},
			wantID: "c1", wantStatus: http.StatusCreated},
		{name: "client id, NoContent", noContent: true, album: ShAlbum{ID: "c1", Title: "New", SongCount: 2, Tracks: []*ShTrack{{ID: "10"}}},
			wantID: "c1", wantStatus: http.StatusNoContent},
	}
	for _, backend := range shBackends {
		for _, tt := range tests {
			t.Run(backend+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				env := newShEnv(t, backend, tt.noContent)
				ctx := context.Background()
				k, err := env.albums.Create(tt.album)
				require.NoError(t, err)
				if tt.wantLID {
					assert.Regexp(t, `^`+recstore.LIDPrefix+`album-\d+$`, k.ID, "Create without an id gives a local identifier")
				} else {
					assert.Equal(t, recstore.Key{Type: "album", ID: tt.wantID}, k)
				}
				st := env.s.State(k)
				assert.Equal(t, recstore.StatusCreated, st.Status)
				assert.True(t, st.IsNew() && st.IsDirty(), "state %+v", st)
				assert.Equal(t, "root.loaded.created.uncommitted", st.Name())
				assert.Equal(t, map[string]recstore.Change{"title": {New: "New"}, "songCount": {New: 2}}, env.s.ChangedAttributes(k))

				entered, release := env.hold(t, nil)
				done := env.saveAsync(ctx, k)
				<-entered
				st = env.s.State(k)
				assert.True(t, st.Saving, "State while the POST is in flight: %+v", st)
				assert.Equal(t, "root.loaded.created.inFlight", st.Name())
				release()
				res := <-done
				require.NoError(t, res.err)

				want := recstore.Key{Type: "album", ID: tt.wantID}
				assert.Equal(t, want, res.key, "Save's key")
				assert.Equal(t, want, env.s.Resolve(k), "Resolve of Create's key")
				// The POST did not carry tracks (a has-many whose inverse is
				// a to-one is saved from the track's side, as in Ember), so
				// that change stays local until track 10 is saved.
				st = env.s.State(k)
				assert.Equal(t, recstore.State{Status: recstore.StatusUpdated}, st, "State by Create's key")
				assert.Equal(t, "root.loaded.updated.uncommitted", st.Name())
				assert.Equal(t, st, env.albums.State(tt.wantID), "State by the new id")
				assert.Empty(t, env.s.ChangedAttributes(k))
				assert.Equal(t, map[string]recstore.Change{"tracks": {Old: []recstore.Key(nil), New: []recstore.Key{{Type: "track", ID: "10"}}}}, env.s.ChangedRelationships(k))
				v, ok := env.s.Peek(k)
				require.True(t, ok, "Store.Peek(%v) after the save", k)
				assert.Equal(t, tt.wantID, v.(ShAlbum).ID)
				a, ok := env.albums.Peek(k.ID)
				require.True(t, ok, "Model.Peek(%q) after the save", k.ID)
				assert.Equal(t, tt.wantID, a.ID)
				assert.Equal(t, "New", a.Title)
				assert.Equal(t, 2, a.SongCount)
				assert.True(t, env.m.Has("album", tt.wantID), "the backend has album %s", tt.wantID)

				// Both sides of the inverse name the new id.
				assert.Equal(t, []string{"10"}, trackIDs(a), "the new album's tracks")
				tr, ok := env.tracks.Peek("10")
				require.True(t, ok)
				require.NotNil(t, tr.Album, "track 10's album")
				assert.Equal(t, tt.wantID, tr.Album.ID, "track 10's album names the id, not the lid")
				a1, _ := env.albums.Peek("1")
				assert.Empty(t, trackIDs(a1), "album 1 lost track 10")
				assert.Equal(t, recstore.StatusUpdated, env.tracks.State("10").Status, "track 10's album is its own change to save")

				if env.http {
					w := env.writes()
					require.Len(t, w, 1)
					assert.Equal(t, http.MethodPost, w[0].Method)
					assert.Equal(t, "/albums", w[0].Path)
					assert.Equal(t, tt.wantStatus, w[0].Status)
					data := shData(t, w[0].Body)
					if tt.wantLID {
						assert.Equal(t, k.ID, data["lid"], "a POST of a record without an id sends its lid")
						assert.NotContains(t, data, "id")
					} else {
						assert.Equal(t, tt.wantID, data["id"], "a POST with a client id sends it")
						assert.NotContains(t, data, "lid")
					}
				}

				// Saving track 10 sends its album: both sides are clean.
				_, err = env.s.Save(ctx, recstore.Key{Type: "track", ID: "10"})
				require.NoError(t, err)
				assert.Equal(t, recstore.StatusLoaded, env.tracks.State("10").Status)
				assert.Equal(t, recstore.StatusLoaded, env.s.State(k).Status, "the album's tracks are the backend's now")
				assert.Empty(t, env.s.ChangedRelationships(k))
			})
		}
	}
}

// shData returns the data member of a request body, which must be a
// JSON:API document holding only data.
func shData(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal(body, &doc), "body %s", body)
	require.Equal(t, []string{"data"}, slices.Sorted(maps.Keys(doc)), "top-level members of %s", body)
	data, ok := doc["data"].(map[string]any)
	require.True(t, ok, "data of %s is an object", body)
	return data
}

// A Save of a loaded record updates it: the answer (the record echoed,
// one the server changed, or none) becomes the backend's values and the
// record is clean, except for what was edited while the save was in
// flight.
func TestStore_SaveUpdate(t *testing.T) {
	tests := []struct {
		name        string
		noContent   bool
		server      func(op string, req *recstore.Request, res map[string]any) error // the backend's side
		during      func(t *testing.T, env *shEnv)                                   // while the save is in flight
		wantTitle   string
		wantSongs   int
		wantChanged map[string]recstore.Change
		wantStatus  int // over HTTP
		wantBackend map[string]any
	}{
		{name: "200 echoing the record", wantTitle: "Milestones", wantSongs: 5, wantStatus: http.StatusOK,
			wantBackend: map[string]any{"title": "Milestones", "song-count": 5.0}},
		{name: "200 with a server-changed attribute",
			server: func(op string, req *recstore.Request, res map[string]any) error {
				res["attributes"].(map[string]any)["song-count"] = 99
				return nil
			},
			wantTitle: "Milestones", wantSongs: 99, wantStatus: http.StatusOK,
			wantBackend: map[string]any{"title": "Milestones", "song-count": 99.0}},
		{name: "204 confirms", noContent: true, wantTitle: "Milestones", wantSongs: 5, wantStatus: http.StatusNoContent,
			wantBackend: map[string]any{"title": "Milestones", "song-count": 5.0}},
		{name: "edit during the save stays dirty",
			during: func(t *testing.T, env *shEnv) {
				require.NoError(t, env.s.SetAttr(recstore.Key{Type: "album", ID: "1"}, "songCount", 7))
			},
			wantTitle: "Milestones", wantSongs: 7, wantStatus: http.StatusOK,
			wantChanged: map[string]recstore.Change{"songCount": {Old: 5, New: 7}},
			wantBackend: map[string]any{"title": "Milestones", "song-count": 5.0}},
		{name: "edit of the saved attribute during the save stays dirty", noContent: true,
			during: func(t *testing.T, env *shEnv) {
				_, err := env.albums.Edit("1", func(a *ShAlbum) { a.Title = "Milestones (live)" })
				require.NoError(t, err)
			},
			wantTitle: "Milestones (live)", wantSongs: 5, wantStatus: http.StatusNoContent,
			wantChanged: map[string]recstore.Change{"title": {Old: "Milestones", New: "Milestones (live)"}},
			wantBackend: map[string]any{"title": "Milestones", "song-count": 5.0}},
	}
	for _, backend := range shBackends {
		for _, tt := range tests {
			t.Run(backend+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				env := newShEnv(t, backend, tt.noContent)
				k := recstore.Key{Type: "album", ID: "1"}
				_, err := env.albums.Edit("1", func(a *ShAlbum) { a.Title = "Milestones" })
				require.NoError(t, err)
				st := env.s.State(k)
				assert.Equal(t, recstore.StatusUpdated, st.Status)
				assert.Equal(t, "root.loaded.updated.uncommitted", st.Name())

				entered, release := env.hold(t, tt.server)
				done := env.saveAsync(context.Background(), k)
				<-entered
				st = env.s.State(k)
				assert.True(t, st.Saving, "State while the PATCH is in flight: %+v", st)
				assert.Equal(t, "root.loaded.updated.inFlight", st.Name())
				assert.Equal(t, map[string]recstore.Change{"title": {Old: "Kind of Blue", New: "Milestones"}}, env.s.ChangedAttributes(k),
					"the changes being sent are still changes while in flight")
				if tt.during != nil {
					tt.during(t, env)
				}
				release()
				res := <-done
				require.NoError(t, res.err)
				assert.Equal(t, k, res.key)

				a, ok := env.albums.Peek("1")
				require.True(t, ok)
				assert.Equal(t, tt.wantTitle, a.Title)
				assert.Equal(t, tt.wantSongs, a.SongCount)
				st = env.s.State(k)
				assert.False(t, st.Saving)
				assert.NoError(t, st.Err)
				assert.True(t, st.IsValid())
				if tt.wantChanged == nil {
					assert.Empty(t, env.s.ChangedAttributes(k))
					assert.Equal(t, recstore.StatusLoaded, st.Status, "clean after the save: %+v", st)
					assert.Equal(t, "root.loaded.saved", st.Name())
				} else {
					assert.Equal(t, tt.wantChanged, env.s.ChangedAttributes(k))
					assert.Equal(t, recstore.StatusUpdated, st.Status, "the edit made in flight is still to save: %+v", st)
				}
				back := env.backendAttrs(t, "album", "1")
				for name, want := range tt.wantBackend {
					assert.Equal(t, want, back[name], "backend's %s", name)
				}
				if env.http {
					w := env.writes()
					require.Len(t, w, 1)
					assert.Equal(t, http.MethodPatch, w[0].Method)
					assert.Equal(t, "/albums/1", w[0].Path)
					assert.Equal(t, tt.wantStatus, w[0].Status)
				}
			})
		}
	}
}

// A failed Save keeps the changes and says why in State: an Err for a
// conflict, a server error or a timeout, Errors by attribute for a 422
// (until that attribute is changed again). The record stays retryable:
// the next Save succeeds and clears them.
func TestStore_SaveFailures(t *testing.T) {
	tests := []struct {
		name       string
		httpOnly   bool
		create     bool                                           // the record failing is one created here (CreateRecord), not album 1
		fail       error                                          // FailNext(op, fail)
		slow       bool                                           // the backend holds the save past ctx's deadline
		wantIs     []error                                        // what the error and State.Err match
		wantErrors map[string][]string                            // State.Errors
		wantName   string                                         // State.Name() after the failure
		change     func(t *testing.T, env *shEnv, k recstore.Key) // a change after a 422
		wantAfter  map[string][]string                            // State.Errors after change
		wantStatus int                                            // the failed request's, over HTTP
	}{
		{name: "409 conflict", fail: recstoretest.Conflict("stale version"),
			wantIs: []error{recstore.ErrConflict}, wantName: "root.loaded.updated.uncommitted", wantStatus: http.StatusConflict},
		{name: "422, SetAttr clears its attribute's errors",
			fail:       recstoretest.Invalid("/data/attributes/song-count", "too many", "/data", "bad record"),
			wantIs:     []error{recstore.ErrInvalid},
			wantErrors: map[string][]string{"songCount": {"too many"}, recstore.BaseErrors: {"bad record"}},
			wantName:   "root.loaded.updated.invalid",
			change: func(t *testing.T, env *shEnv, k recstore.Key) {
				require.NoError(t, env.s.SetAttr(k, "songCount", 6))
			},
			wantAfter:  map[string][]string{recstore.BaseErrors: {"bad record"}},
			wantStatus: http.StatusUnprocessableEntity},
		{name: "422, Edit clears its attribute's errors",
			fail:       recstoretest.Invalid("/data/attributes/song-count", "too many", "/data/attributes/title", "too short"),
			wantIs:     []error{recstore.ErrInvalid},
			wantErrors: map[string][]string{"songCount": {"too many"}, "title": {"too short"}},
			wantName:   "root.loaded.updated.invalid",
			change: func(t *testing.T, env *shEnv, k recstore.Key) {
				_, err := env.albums.Edit(k.ID, func(a *ShAlbum) { a.Title = "Milestones, remastered" })
				require.NoError(t, err)
			},
			wantAfter:  map[string][]string{"songCount": {"too many"}},
			wantStatus: http.StatusUnprocessableEntity},
		{name: "422 on create", create: true,
			fail:       recstoretest.Invalid("/data/attributes/song-count", "too many", "/data/relationships/label", "is required"),
			wantIs:     []error{recstore.ErrInvalid},
			wantErrors: map[string][]string{"songCount": {"too many"}, "label": {"is required"}},
			wantName:   "root.loaded.created.invalid",
			change: func(t *testing.T, env *shEnv, k recstore.Key) {
				require.NoError(t, env.s.SetAttr(k, "songCount", 6))
			},
			wantAfter:  map[string][]string{"label": {"is required"}},
			wantStatus: http.StatusUnprocessableEntity},
		{name: "409 on create", create: true, fail: recstoretest.Conflict("id taken"),
			wantIs: []error{recstore.ErrConflict}, wantName: "root.loaded.created.uncommitted", wantStatus: http.StatusConflict},
		{name: "500", fail: &recstore.BackendError{Status: http.StatusInternalServerError},
			wantIs: []error{recstore.ErrServer}, wantName: "root.loaded.updated.uncommitted", wantStatus: http.StatusInternalServerError},
		{name: "timeout", httpOnly: true, slow: true,
			wantIs: []error{recstore.ErrTimeout, context.DeadlineExceeded}, wantName: "root.loaded.updated.uncommitted"},
	}
	for _, backend := range shBackends {
		for _, tt := range tests {
			if tt.httpOnly && backend != "http" {
				continue
			}
			t.Run(backend+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				env := newShEnv(t, backend, false)
				k, op, wantStatus := recstore.Key{Type: "album", ID: "1"}, "UpdateRecord", recstore.StatusUpdated
				var err error
				if tt.create {
					k, err = env.albums.Create(ShAlbum{Title: "Milestones", SongCount: 9})
					op, wantStatus = "CreateRecord", recstore.StatusCreated
				} else {
					_, err = env.albums.Edit("1", func(a *ShAlbum) { a.Title, a.SongCount = "Milestones", 9 })
				}
				require.NoError(t, err)
				changed := env.s.ChangedAttributes(k)
				ctx := context.Background()
				if tt.fail != nil {
					env.m.FailNext(op, tt.fail)
				}
				if tt.slow {
					// The backend holds the first save until the client
					// has given up, then refuses it, as a server would
					// that noticed the client gone.
					var first sync.Once
					rel := make(chan struct{})
					release := sync.OnceFunc(func() { close(rel) })
					t.Cleanup(release)
					env.setOnSave(func(op string, req *recstore.Request, res map[string]any) error {
						held := false
						first.Do(func() { held = true })
						if held {
							<-rel
							return recstoretest.Conflict("client gone")
						}
						return nil
					})
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, 50*time.Millisecond)
					defer cancel()
					defer release()
				}

				calls := env.m.Calls("")
				_, err = env.s.Save(ctx, k)
				require.Error(t, err)
				for _, target := range tt.wantIs {
					assert.ErrorIs(t, err, target)
				}
				var ae *recstore.AdapterError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, op, ae.Op)
				assert.Equal(t, "album", ae.Type)
				assert.Equal(t, k.ID, ae.ID)

				st := env.s.State(k)
				assert.Equal(t, wantStatus, st.Status)
				assert.False(t, st.Saving)
				assert.Equal(t, tt.wantName, st.Name())
				assert.Equal(t, tt.wantErrors, st.Errors)
				assert.Equal(t, tt.wantErrors == nil, st.IsValid())
				if tt.wantErrors == nil {
					require.Error(t, st.Err, "State.Err after a failure other than validation")
					for _, target := range tt.wantIs {
						assert.ErrorIs(t, st.Err, target)
					}
				} else {
					assert.NoError(t, st.Err, "a validation failure is in Errors, not Err")
				}
				assert.Equal(t, changed, env.s.ChangedAttributes(k), "the changes are kept")
				assert.Equal(t, calls+1, env.m.Calls(""), "one call to the backend")
				a, _ := env.albums.Peek(k.ID)
				assert.Equal(t, "Milestones", a.Title)
				assert.Equal(t, "Kind of Blue", env.backendAttrs(t, "album", "1")["title"], "the backend is unchanged")
				assert.False(t, env.m.Has("album", "11"), "the backend created nothing")
				if env.http && tt.wantStatus != 0 {
					w := env.writes()
					require.Len(t, w, 1)
					assert.Equal(t, tt.wantStatus, w[0].Status)
				}

				if tt.change != nil {
					tt.change(t, env, k)
					st = env.s.State(k)
					assert.Equal(t, tt.wantAfter, st.Errors, "errors after changing one attribute")
					assert.Equal(t, wantStatus, st.Status)
				}

				// Retryable: the next save goes through and clears the
				// failure.
				nk, err := env.s.Save(context.Background(), k)
				require.NoError(t, err, "retry")
				st = env.s.State(k)
				assert.Equal(t, recstore.State{Status: recstore.StatusLoaded}, st, "clean after the retry")
				assert.Empty(t, env.s.ChangedAttributes(k))
				a, _ = env.albums.Peek(k.ID)
				assert.Equal(t, nk.ID, a.ID)
				assert.Equal(t, a.Title, env.backendAttrs(t, "album", nk.ID)["title"], "the backend has the retried title")
			})
		}
	}
}

// A saved deletion (Delete then Save) sends a DELETE and leaves the
// record deleted.saved: out of All, Len and the relationships that held
// it, but still read by Peek. Destroy unloads it too; Destroy of a record
// never saved makes no request.
func TestStore_SaveDelete(t *testing.T) {
	tests := []struct {
		name        string
		key         recstore.Key // the record deleted
		create      bool         // key is a record created here, never saved
		destroy     bool         // Destroy rather than Delete and Save
		wantStatus  recstore.Status
		wantName    string
		wantPeek    bool
		wantAlbums  int    // albums.Len() afterwards
		wantTracks  int    // tracks.Len() afterwards
		wantRequest string // "METHOD /path" over HTTP; "" for none
		check       func(t *testing.T, env *shEnv)
	}{
		{name: "Delete and Save a track", key: recstore.Key{Type: "track", ID: "10"},
			wantStatus: recstore.StatusDeletedSaved, wantName: "root.deleted.saved", wantPeek: true,
			wantAlbums: 2, wantTracks: 0, wantRequest: "DELETE /tracks/10",
			check: func(t *testing.T, env *shEnv) {
				a, _ := env.albums.Peek("1")
				assert.Empty(t, trackIDs(a), "album 1 no longer lists the deleted track")
				assert.Empty(t, env.s.ChangedRelationships(recstore.Key{Type: "album", ID: "1"}), "the inverse is updated on its backend side")
				assert.Equal(t, recstore.StatusLoaded, env.albums.State("1").Status)
			}},
		{name: "Delete and Save an album", key: recstore.Key{Type: "album", ID: "1"},
			wantStatus: recstore.StatusDeletedSaved, wantName: "root.deleted.saved", wantPeek: true,
			wantAlbums: 1, wantTracks: 1, wantRequest: "DELETE /albums/1",
			check: func(t *testing.T, env *shEnv) {
				tr, _ := env.tracks.Peek("10")
				assert.Nil(t, tr.Album, "track 10 no longer names the deleted album")
				assert.Equal(t, recstore.StatusLoaded, env.tracks.State("10").Status)
			}},
		{name: "Destroy an album", key: recstore.Key{Type: "album", ID: "1"}, destroy: true,
			wantStatus: recstore.StatusEmpty, wantName: "root.empty",
			wantAlbums: 1, wantTracks: 1, wantRequest: "DELETE /albums/1",
			check: func(t *testing.T, env *shEnv) {
				tr, _ := env.tracks.Peek("10")
				assert.Nil(t, tr.Album, "track 10 no longer names the destroyed album")
			}},
		{name: "Destroy a record never saved", create: true, destroy: true,
			wantStatus: recstore.StatusEmpty, wantName: "root.empty",
			wantAlbums: 2, wantTracks: 1},
	}
	for _, backend := range shBackends {
		for _, tt := range tests {
			t.Run(backend+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				env := newShEnv(t, backend, false)
				ctx := context.Background()
				k := tt.key
				if tt.create {
					var err error
					k, err = env.albums.Create(ShAlbum{Title: "Draft"})
					require.NoError(t, err)
				}
				calls := env.m.Calls("")
				if tt.destroy {
					require.NoError(t, env.s.Destroy(ctx, k))
				} else {
					require.NoError(t, env.s.Delete(k))
					st := env.s.State(k)
					assert.Equal(t, recstore.StatusDeleted, st.Status)
					assert.Equal(t, "root.deleted.uncommitted", st.Name())
					_, err := env.s.Save(ctx, k)
					require.NoError(t, err)
				}
				st := env.s.State(k)
				assert.Equal(t, tt.wantStatus, st.Status)
				assert.Equal(t, tt.wantName, st.Name())
				_, ok := env.s.Peek(k)
				assert.Equal(t, tt.wantPeek, ok, "Peek(%v) afterwards", k)
				assert.Equal(t, tt.wantAlbums, env.albums.Len(), "albums.Len()")
				assert.Equal(t, tt.wantTracks, env.tracks.Len(), "tracks.Len()")
				assert.NotContains(t, env.s.Keys(k.Type), k, "Keys(%q)", k.Type)
				for id := range env.albums.All() {
					assert.NotEqual(t, k, recstore.Key{Type: "album", ID: id}, "All lists the deleted record")
				}
				for id := range env.tracks.All() {
					assert.NotEqual(t, k, recstore.Key{Type: "track", ID: id}, "All lists the deleted record")
				}
				assert.False(t, env.m.Has(k.Type, k.ID), "the backend still has %v", k)
				if tt.check != nil {
					tt.check(t, env)
				}
				if tt.wantRequest == "" {
					assert.Equal(t, calls, env.m.Calls(""), "no call to the backend")
					assert.Empty(t, env.writes(), "no request")
					return
				}
				assert.Equal(t, calls+1, env.m.Calls(""), "one call to the backend")
				assert.Equal(t, 1, env.m.Calls("DeleteRecord"), "the call is DeleteRecord")
				if env.http {
					w := env.writes()
					require.Len(t, w, 1)
					assert.Equal(t, tt.wantRequest, w[0].Method+" "+w[0].Path)
					assert.Equal(t, http.StatusNoContent, w[0].Status)
					assert.Empty(t, w[0].Body, "a DELETE has no body")
					assert.Empty(t, w[0].ContentType, "a DELETE has no Content-Type")
				}
			})
		}
	}
}

// A Save that failed is retried by the next one: it sends the same
// changes again (the same body, over HTTP) and ends clean.
func TestStore_SaveRetry(t *testing.T) {
	tests := []struct {
		name string
		op   string
		fail error
		// prepare makes the change to save and returns the record's key.
		prepare    func(t *testing.T, env *shEnv) recstore.Key
		wantMethod string
		wantPath   string
		wantStatus recstore.Status // after the retry
		check      func(t *testing.T, env *shEnv, k recstore.Key)
	}{
		{name: "update after a 503", op: "UpdateRecord", fail: &recstore.BackendError{Status: http.StatusServiceUnavailable},
			prepare: func(t *testing.T, env *shEnv) recstore.Key {
				_, err := env.albums.Edit("1", func(a *ShAlbum) {
					a.Title, a.SongCount = "Milestones", 6
					a.Label = nil
					a.Genres = []*ShGenre{{ID: "g2"}}
				})
				require.NoError(t, err)
				return recstore.Key{Type: "album", ID: "1"}
			},
			wantMethod: http.MethodPatch, wantPath: "/albums/1", wantStatus: recstore.StatusLoaded,
			check: func(t *testing.T, env *shEnv, k recstore.Key) {
				assert.Equal(t, map[string]any{"title": "Milestones", "song-count": 6.0}, env.backendAttrs(t, "album", "1"))
				a, _ := env.albums.Peek("1")
				assert.Nil(t, a.Label)
				// Genre g2 is not loaded, so Peek leaves it out: read the keys.
				sn, ok := env.s.Snapshot(k)
				require.True(t, ok)
				r, _ := sn.Relationship("genres")
				assert.Equal(t, []recstore.Key{{Type: "genre", ID: "g2"}}, r.Keys)
			}},
		{name: "update after a 422", op: "UpdateRecord", fail: recstoretest.Invalid("/data/attributes/title", "taken"),
			prepare: func(t *testing.T, env *shEnv) recstore.Key {
				_, err := env.albums.Edit("1", func(a *ShAlbum) { a.Title = "Milestones" })
				require.NoError(t, err)
				return recstore.Key{Type: "album", ID: "1"}
			},
			wantMethod: http.MethodPatch, wantPath: "/albums/1", wantStatus: recstore.StatusLoaded,
			check: func(t *testing.T, env *shEnv, k recstore.Key) {
				assert.Equal(t, "Milestones", env.backendAttrs(t, "album", "1")["title"])
			}},
		{name: "create without an id after a 500", op: "CreateRecord", fail: &recstore.BackendError{Status: http.StatusInternalServerError},
			prepare: func(t *testing.T, env *shEnv) recstore.Key {
				k, err := env.albums.Create(ShAlbum{Title: "New", Label: &ShLabel{ID: "5"}})
				require.NoError(t, err)
				return k
			},
			wantMethod: http.MethodPost, wantPath: "/albums", wantStatus: recstore.StatusLoaded,
			check: func(t *testing.T, env *shEnv, k recstore.Key) {
				assert.Equal(t, recstore.Key{Type: "album", ID: "11"}, env.s.Resolve(k), "one record created, id 11")
				assert.True(t, env.m.Has("album", "11"))
				assert.False(t, env.m.Has("album", "12"), "the failed create stored nothing")
			}},
		{name: "create with a client id after a 409", op: "CreateRecord", fail: recstoretest.Conflict("try again"),
			prepare: func(t *testing.T, env *shEnv) recstore.Key {
				k, err := env.albums.Create(ShAlbum{ID: "c1", Title: "New"})
				require.NoError(t, err)
				return k
			},
			wantMethod: http.MethodPost, wantPath: "/albums", wantStatus: recstore.StatusLoaded,
			check: func(t *testing.T, env *shEnv, k recstore.Key) {
				assert.True(t, env.m.Has("album", "c1"))
			}},
		{name: "delete after a 500", op: "DeleteRecord", fail: &recstore.BackendError{Status: http.StatusInternalServerError},
			prepare: func(t *testing.T, env *shEnv) recstore.Key {
				k := recstore.Key{Type: "track", ID: "10"}
				require.NoError(t, env.s.Delete(k))
				return k
			},
			wantMethod: http.MethodDelete, wantPath: "/tracks/10", wantStatus: recstore.StatusDeletedSaved,
			check: func(t *testing.T, env *shEnv, k recstore.Key) {
				assert.False(t, env.m.Has("track", "10"))
				assert.Equal(t, 0, env.tracks.Len())
			}},
	}
	for _, backend := range shBackends {
		for _, tt := range tests {
			t.Run(backend+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				env := newShEnv(t, backend, false)
				k := tt.prepare(t, env)
				before := env.s.State(k)
				attrs, rels := env.s.ChangedAttributes(k), env.s.ChangedRelationships(k)
				env.m.FailNext(tt.op, tt.fail)

				_, err := env.s.Save(context.Background(), k)
				require.Error(t, err)
				var ae *recstore.AdapterError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, tt.op, ae.Op)
				st := env.s.State(k)
				assert.Equal(t, before.Status, st.Status, "the failure keeps the state")
				assert.Equal(t, attrs, env.s.ChangedAttributes(k), "the failure keeps the attributes' changes")
				assert.Equal(t, rels, env.s.ChangedRelationships(k), "the failure keeps the relationships' changes")

				_, err = env.s.Save(context.Background(), k)
				require.NoError(t, err, "retry")
				assert.Equal(t, recstore.State{Status: tt.wantStatus}, env.s.State(k), "after the retry")
				assert.Empty(t, env.s.ChangedAttributes(k))
				assert.Empty(t, env.s.ChangedRelationships(k))
				assert.Equal(t, 2, env.m.Calls(tt.op), "the failed call and the retry")
				tt.check(t, env, k)
				if env.http {
					w := env.writes()
					require.Len(t, w, 2)
					for _, r := range w {
						assert.Equal(t, tt.wantMethod+" "+tt.wantPath, r.Method+" "+r.Path)
					}
					assert.GreaterOrEqual(t, w[0].Status, 400, "the first answer is a failure")
					assert.Less(t, w[1].Status, 300, "the retry's answer is a success")
					if tt.wantMethod == http.MethodDelete {
						assert.Empty(t, w[0].Body)
						assert.Empty(t, w[1].Body)
					} else {
						assert.JSONEq(t, string(w[0].Body), string(w[1].Body), "the retry sends the same body")
					}
				}
			})
		}
	}
}

package recstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recstore/recstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// PanicAlbum reaches every kind of user code a push runs: a Transform
// (year) and a json.Unmarshaler (mood).
type PanicAlbum struct {
	ID    string `jsonapi:"primary,palbum"`
	Title string `jsonapi:"attr,title"`
	Year  int    `jsonapi:"attr,year" recstore:"transform=year"`
	Mood  Mood   `jsonapi:"attr,mood"`
}

// Mood panics when it decodes the value "panic".
type Mood string

func (m *Mood) UnmarshalJSON(b []byte) error {
	if string(b) == `"panic"` {
		panic("boom in UnmarshalJSON")
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*m = Mood(s)
	return nil
}

// panicWorld is a backend and a full set of user code, any one point of
// which can be armed to panic.
type panicWorld struct {
	armed atomic.Value             // string: the point that panics, "" for none
	hold  atomic.Pointer[chan any] // if set, adapter calls wait for it to close
	down  atomic.Bool              // adapter calls fail, with errBackendDown
	mu    sync.Mutex
	logs  []string // messages the Logger's handler saw
	reps  errorLog // what OnBackgroundError got
}

func (w *panicWorld) arm(point string) { w.armed.Store(point) }

// at is called at each point of user code: it panics if that point is
// armed.
func (w *panicWorld) at(point string) {
	if p, _ := w.armed.Load().(string); p == point {
		panic("boom in " + point)
	}
}

// enter is called as an adapter call starts, so that callers can gather
// on it before it goes on.
func (w *panicWorld) enter() error {
	if h := w.hold.Load(); h != nil {
		<-*h
	}
	if w.down.Load() {
		return errBackendDown
	}
	return nil
}

var errBackendDown = errors.New("backend down")

func (w *panicWorld) resource(id string) string {
	mood := "calm"
	if p, _ := w.armed.Load().(string); p == "UnmarshalJSON" {
		mood = "panic"
	}
	return fmt.Sprintf(`{"type": "palbum", "id": %q, "attributes": {"title": "t%s", "year": 2000, "mood": %q}}`, id, id, mood)
}

// doc answers for ids: one resource, or an array of them. With the
// Logger armed it includes a record of an unknown type, which the
// serializer skips and logs.
func (w *panicWorld) doc(many bool, ids ...string) []byte {
	rs := make([]string, len(ids))
	for i, id := range ids {
		rs[i] = w.resource(id)
	}
	data := rs[0]
	if many {
		data = "[" + strings.Join(rs, ",") + "]"
	}
	incl := ""
	if p, _ := w.armed.Load().(string); p == "Logger" {
		incl = `, "included": [{"type": "no-such-type", "id": "x"}]`
	}
	return []byte(`{"data": ` + data + incl + `}`)
}

// panicAdapter is the world's Adapter, with every capability the Store
// runs on goroutines of its own, and a ReloadPolicy.
type panicAdapter struct{ w *panicWorld }

func (a panicAdapter) FindRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	if err := a.w.enter(); err != nil {
		return nil, err
	}
	a.w.at("FindRecord")
	return a.w.doc(false, req.ID), nil
}

func (a panicAdapter) FindMany(ctx context.Context, req *recstore.Request) ([]byte, error) {
	if err := a.w.enter(); err != nil {
		return nil, err
	}
	a.w.at("FindMany")
	return a.w.doc(true, req.IDs...), nil
}

func (a panicAdapter) FindAll(ctx context.Context, req *recstore.Request) ([]byte, error) {
	if err := a.w.enter(); err != nil {
		return nil, err
	}
	a.w.at("FindAll")
	return a.w.doc(true, "1", "2"), nil
}

func (a panicAdapter) Query(ctx context.Context, req *recstore.Request) ([]byte, error) {
	if err := a.w.enter(); err != nil {
		return nil, err
	}
	a.w.at("Query")
	return a.w.doc(true, "1", "2"), nil
}

func (a panicAdapter) GroupForFindMany(typ string, ids []string) [][]string {
	a.w.at("GroupForFindMany")
	return [][]string{ids}
}

func (a panicAdapter) ShouldReloadRecord(*recstore.Snapshot) bool {
	a.w.at("ShouldReloadRecord")
	return false
}

func (a panicAdapter) ShouldBackgroundReloadRecord(*recstore.Snapshot) bool {
	a.w.at("ShouldBackgroundReloadRecord")
	return false
}

func (a panicAdapter) ShouldReloadAll(_ string, cached int) bool {
	a.w.at("ShouldReloadAll")
	return cached == 0
}

func (a panicAdapter) ShouldBackgroundReloadAll(string, int) bool {
	a.w.at("ShouldBackgroundReloadAll")
	return false
}

// panicHandler is a slog.Handler that records messages and panics when
// the Logger is armed.
type panicHandler struct{ w *panicWorld }

func (h panicHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h panicHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h panicHandler) WithGroup(string) slog.Handler            { return h }
func (h panicHandler) Handle(_ context.Context, r slog.Record) error {
	h.w.mu.Lock()
	h.w.logs = append(h.w.logs, r.Message)
	h.w.mu.Unlock()
	h.w.at("Logger")
	return nil
}

func (w *panicWorld) logged() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.logs...)
}

// panicStore returns a Store over a new world: its Adapter is the world's
// own, or with overHTTP an HTTPAdapter whose Prepare is the world's.
// report says whether OnBackgroundError is set; without it background
// errors go to the Logger.
func panicStore(t *testing.T, overHTTP, coalesce, report bool) (*panicWorld, *recstore.Store, *recstore.Model[PanicAlbum]) {
	t.Helper()
	w := &panicWorld{}
	w.arm("")
	var ad recstore.Adapter = panicAdapter{w}
	if overHTTP {
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			rw.Header().Set("Content-Type", "application/vnd.api+json")
			id := strings.TrimPrefix(r.URL.Path, "/palbums")
			switch ids := r.URL.Query().Get("filter[id]"); {
			case ids != "":
				rw.Write(w.doc(true, strings.Split(ids, ",")...))
			case id == "":
				rw.Write(w.doc(true, "1", "2"))
			default:
				rw.Write(w.doc(false, strings.TrimPrefix(id, "/")))
			}
		}))
		t.Cleanup(srv.Close)
		ad = &recstore.HTTPAdapter{Host: srv.URL, Prepare: func(*http.Request) error {
			err := w.enter()
			w.at("Prepare")
			return err
		}}
	}
	ser := &recstore.JSONAPISerializer{
		NormalizeHash: func(string, *recstore.Hash) error { w.at("NormalizeHash"); return nil },
		Transforms: map[string]recstore.Transform{"year": recstore.TransformFuncs{DeserializeFunc: func(v any) (any, error) {
			w.at("Transform")
			return v, nil
		}}},
	}
	opts := &recstore.Options{
		Adapter: ad,
		Serializer: recstore.SerializerFunc(func(s *recstore.Store, typ string, payload []byte) (*recstore.Document, error) {
			w.at("Normalize")
			return ser.Normalize(s, typ, payload)
		}),
		Logger: slog.New(panicHandler{w}),
	}
	if report {
		opts.OnBackgroundError = func(err error) {
			w.reps.add(err)
			w.at("OnBackgroundError")
		}
	}
	if coalesce {
		// Batches go out when full, so that each holds the two Finds a
		// case makes, however the goroutines are scheduled.
		opts.Coalesce = &recstore.CoalesceOptions{Window: time.Hour, MaxBatch: 2}
	}
	s := recstore.New(opts)
	t.Cleanup(func() { s.Close() })
	return w, s, recstore.MustRegister[PanicAlbum](s, nil)
}

// findEach finds ids at once, each on its own goroutine, and returns each
// Find's error.
func findEach(albums *recstore.Model[PanicAlbum], opts *recstore.FindOptions, ids ...string) []error {
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { _, errs[i] = albums.Find(context.Background(), id, opts) })
	}
	wg.Wait()
	return errs
}

// requirePanicError checks that err carries a recovered panic of op.
func requirePanicError(t *testing.T, err error, op string) {
	t.Helper()
	require.ErrorIs(t, err, recstore.ErrPanic, "want an error carrying the panic of %s", op)
	var pe *recstore.PanicError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, op, pe.Op, "PanicError.Op of %v", err)
	assert.Contains(t, fmt.Sprint(pe.Value), "boom in", "PanicError.Value")
	assert.Contains(t, string(pe.Stack), "panic", "PanicError.Stack holds the panicking goroutine's stack")
}

// TestUserCodePanics arms each point of user code in turn, on each kind
// of goroutine the Store runs it on for its callers, and checks that the
// process survives, that every waiter (or OnBackgroundError) gets the
// panic as an error with its stack, that the Store is as it was, and
// that it works normally afterwards: a Find, Wait and Close return.
func TestUserCodePanics(t *testing.T) {
	const (
		lone         = "lone Find"
		shared       = "shared Find"
		background   = "background reload"
		bgLogged     = "background reload, reported to the Logger"
		coalesced    = "coalesced Finds"
		coalescedBg  = "coalesced background reloads"
		findAllBg    = "FindAll background reload"
		pushPayload  = "PushPayload" // the Op of panics while an answer is pushed
		notDelivered = ""            // nobody gets an error: the panic is logged
		contained    = "contained"   // the panic is dropped and the call succeeds
	)
	pushPoints := []string{"Normalize", "NormalizeHash", "Transform", "UnmarshalJSON"}
	type kase struct {
		point, kind string
		http        bool
		op          string // the PanicError's Op
	}
	var cases []kase
	for _, k := range []string{lone, shared, background} {
		cases = append(cases, kase{"FindRecord", k, false, "FindRecord"}, kase{"Prepare", k, true, "FindRecord"})
		// The Logger reports what the push skipped, after the push:
		// its panic is contained and the push stands.
		cases = append(cases, kase{"Logger", k, false, contained})
		for _, p := range pushPoints {
			cases = append(cases, kase{p, k, false, pushPayload})
		}
	}
	for _, k := range []string{coalesced, coalescedBg} {
		cases = append(cases,
			kase{"FindMany", k, false, "FindMany"},
			kase{"GroupForFindMany", k, false, "GroupForFindMany"},
			kase{"Prepare", k, true, "FindMany"})
		for _, p := range pushPoints {
			cases = append(cases, kase{p, k, false, pushPayload})
		}
	}
	cases = append(cases, kase{"FindAll", findAllBg, false, "FindAll"}, kase{"Prepare", findAllBg, true, "FindAll"})
	for _, p := range pushPoints {
		cases = append(cases, kase{p, findAllBg, false, pushPayload})
	}
	for _, k := range []string{background, coalescedBg, findAllBg} {
		cases = append(cases, kase{"OnBackgroundError", k, false, notDelivered})
	}
	// The Logger reports a background failure, and panics doing it.
	cases = append(cases, kase{"Logger", bgLogged, false, notDelivered})

	var recovered atomic.Int64
	for _, tt := range cases {
		t.Run(tt.point+" in "+tt.kind, func(t *testing.T) {
			t.Parallel()
			coalesce := tt.kind == coalesced || tt.kind == coalescedBg
			w, s, albums := panicStore(t, tt.http, coalesce, tt.kind != bgLogged)
			_, err := s.Push(string(w.doc(true, "c1", "c2")))
			require.NoError(t, err)
			before := recstore.Dump(s)
			always := &recstore.FindOptions{BackgroundReload: recstore.ReloadAlways}

			w.arm(tt.point)
			// A report needs a failure to report.
			w.down.Store(tt.op == notDelivered)
			pushed := recstore.Dump(s)
			var errs []error
			switch tt.kind {
			case lone:
				errs = findEach(albums, nil, "n1")
			case shared:
				h := make(chan any)
				w.hold.Store(&h)
				done := make(chan []error)
				go func() { done <- findEach(albums, nil, "n1", "n1") }()
				require.Eventually(t, func() bool { return recstore.Waiters(s, "palbum", "n1") == 2 },
					10*time.Second, time.Millisecond, "both Finds wait on one call")
				close(h)
				errs = <-done
			case coalesced:
				errs = findEach(albums, nil, "n1", "n2")
			case background, bgLogged, coalescedBg:
				ids := []string{"c1"}
				if tt.kind == coalescedBg {
					ids = append(ids, "c2")
				}
				for _, err := range findEach(albums, always, ids...) {
					require.NoError(t, err, "the cached record is the answer")
				}
				s.Wait()
				errs = w.reps.list()
			case findAllBg:
				_, err := albums.FindAll(context.Background(), always)
				require.NoError(t, err, "the cached records are the answer")
				s.Wait()
				errs = w.reps.list()
			}
			w.arm("")
			w.hold.Store(nil)
			w.down.Store(false)

			switch tt.op {
			case contained:
				for _, err := range errs {
					assert.NoError(t, err, "a panicking Logger does not fail the push it reports on")
				}
				assert.Contains(t, w.logged(), "recstore: resource of unknown type skipped")
				before = recstore.Dump(s)
				if tt.kind == lone || tt.kind == shared {
					assert.NotEqual(t, pushed, before, "the Find pushed its answer")
				}
			case notDelivered:
				// The report panicked: OnBackgroundError's panic is
				// logged, the Logger's dropped.
				if tt.point == "OnBackgroundError" {
					require.NotEmpty(t, errs)
					for _, err := range errs {
						assert.ErrorIs(t, err, errBackendDown, "the error reported is the reload's own")
					}
					assert.Contains(t, w.logged(), "recstore: OnBackgroundError panicked")
				} else {
					assert.Contains(t, w.logged(), "recstore: background reload failed")
				}
			default:
				require.NotEmpty(t, errs)
				for _, err := range errs {
					requirePanicError(t, err, tt.op)
					var ae *recstore.AdapterError
					assert.ErrorAs(t, err, &ae, "the panic comes as the failed adapter call's error")
				}
			}
			requireUnchanged(t, s, before)

			// The Store works as before.
			if coalesce {
				for _, err := range findEach(albums, nil, "n1", "n2") {
					require.NoError(t, err)
				}
			} else {
				a, err := albums.Find(context.Background(), "n1", nil)
				require.NoError(t, err)
				assert.Equal(t, "tn1", a.Title)
			}
			s.Wait()
			require.NoError(t, s.Close())
			recovered.Add(1)
		})
	}
	t.Cleanup(func() { t.Logf("%d of %d panics recovered", recovered.Load(), len(cases)) })
}

// TestUserCodePanicsOnTheCallersGoroutine: user code the Store runs on
// the caller's own goroutine (a ReloadPolicy, a foreground FindAll's
// adapter call) panics there, as any call would, and leaves the Store
// working.
func TestUserCodePanicsOnTheCallersGoroutine(t *testing.T) {
	tests := []struct {
		point string
		call  func(*recstore.Store, *recstore.Model[PanicAlbum]) error
	}{
		{"ShouldReloadRecord", func(_ *recstore.Store, albums *recstore.Model[PanicAlbum]) error {
			_, err := albums.Find(context.Background(), "c1", nil)
			return err
		}},
		{"ShouldBackgroundReloadRecord", func(_ *recstore.Store, albums *recstore.Model[PanicAlbum]) error {
			_, err := albums.Find(context.Background(), "c1", nil)
			return err
		}},
		{"FindAll", func(s *recstore.Store, _ *recstore.Model[PanicAlbum]) error {
			_, err := s.FindAll(context.Background(), "palbum", &recstore.FindOptions{Reload: recstore.ReloadAlways})
			return err
		}},
		{"Transform", func(s *recstore.Store, _ *recstore.Model[PanicAlbum]) error {
			_, err := s.FindAll(context.Background(), "palbum", &recstore.FindOptions{Reload: recstore.ReloadAlways})
			return err
		}},
		{"ShouldReloadAll", func(_ *recstore.Store, albums *recstore.Model[PanicAlbum]) error {
			_, err := albums.FindAll(context.Background(), nil)
			return err
		}},
		{"ShouldBackgroundReloadAll", func(_ *recstore.Store, albums *recstore.Model[PanicAlbum]) error {
			_, err := albums.FindAll(context.Background(), nil)
			return err
		}},
		{"Query", func(_ *recstore.Store, albums *recstore.Model[PanicAlbum]) error {
			_, err := albums.Query(context.Background(), nil)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.point, func(t *testing.T) {
			t.Parallel()
			w, s, albums := panicStore(t, false, false, true)
			_, err := s.Push(string(w.doc(true, "c1")))
			require.NoError(t, err)
			before := recstore.Dump(s)
			w.arm(tt.point)
			assert.PanicsWithValue(t, "boom in "+tt.point, func() { _ = tt.call(s, albums) })
			w.arm("")
			requireUnchanged(t, s, before)
			a, err := albums.Find(context.Background(), "n1", nil)
			require.NoError(t, err)
			assert.Equal(t, "tn1", a.Title)
			require.NoError(t, tt.call(s, albums))
			s.Wait()
			require.NoError(t, s.Close())
		})
	}
}

// An adapter that calls runtime.Goexit (as t.FailNow inside it would)
// on a goroutine the Store owns ends only its own goroutine: the callers
// get a *PanicError, and Wait and Close return.
func TestUserCodeGoexit(t *testing.T) {
	var calls atomic.Int32
	s := recstore.New(&recstore.Options{Adapter: recstore.AdapterFunc(func(ctx context.Context, req *recstore.Request) ([]byte, error) {
		if calls.Add(1) == 1 {
			runtime.Goexit()
		}
		return []byte(`{"data": {"type": "album", "id": "1", "attributes": {"title": "ok"}}}`), nil
	})})
	albums := recstore.MustRegister[Album](s, nil)
	_, err := albums.Find(context.Background(), "1", nil)
	require.ErrorIs(t, err, recstore.ErrPanic)
	var pe *recstore.PanicError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "FindRecord", pe.Op)

	a, err := albums.Find(context.Background(), "1", nil)
	require.NoError(t, err)
	assert.Equal(t, "ok", a.Title)
	s.Wait()
	require.NoError(t, s.Close())
}

package recstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
)

// gateAdapter answers FindRecord for any id once gate is closed, counting
// the calls under way at once.
type gateAdapter struct {
	gate          chan struct{}
	now, maxNow   atomic.Int64
	calls         atomic.Int64
	started       chan struct{} // gets a value as each call starts, if not nil
	startedBuffer int
}

func (a *gateAdapter) FindRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	a.calls.Add(1)
	n := a.now.Add(1)
	defer a.now.Add(-1)
	for {
		m := a.maxNow.Load()
		if n <= m || a.maxNow.CompareAndSwap(m, n) {
			break
		}
	}
	if a.started != nil {
		a.started <- struct{}{}
	}
	select {
	case <-a.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return fmt.Appendf(nil, `{"data":{"type":"fr-books","id":%q,"attributes":{"title":"x"}}}`, req.ID), nil
}

// TestMaxConcurrentCalls: 200 concurrent Finds of distinct ids never put
// more calls under way than the cap.
func TestMaxConcurrentCalls(t *testing.T) {
	for _, tc := range []struct {
		name string
		cap  int
		want int64 // the most calls under way at once
	}{
		{"the cap", 8, 8},
		{"the default", 0, recstore.DefaultMaxConcurrentCalls},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ad := &gateAdapter{gate: make(chan struct{}), started: make(chan struct{}, 200)}
			s := recstore.New(&recstore.Options{Adapter: ad, MaxConcurrentCalls: tc.cap})
			defer s.Close()
			books := recstore.MustRegister[frBook](s, nil)
			var wg sync.WaitGroup
			errs := make(chan error, 200)
			for i := range 200 {
				wg.Go(func() {
					_, err := books.Find(context.Background(), strconv.Itoa(i), nil)
					errs <- err
				})
			}
			for range tc.want {
				<-ad.started
			}
			require.Eventually(t, func() bool { return s.Stats().Waiting == 200-tc.want }, 5*time.Second, time.Millisecond)
			st := s.Stats()
			assert.Equal(t, tc.want, st.InFlight)
			close(ad.gate)
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.want, ad.maxNow.Load())
			assert.Equal(t, int64(200), ad.calls.Load())
			st = s.Stats()
			assert.Zero(t, st.Waiting)
			assert.Zero(t, st.InFlight)
			assert.Equal(t, int64(200), st.AdapterCalls)
			assert.Equal(t, 200, books.Len())
		})
	}
}

// TestMaxConcurrentCalls_ctx: a call waiting for a slot gives up when its
// context ends, and the Store is left as it was.
func TestMaxConcurrentCalls_ctx(t *testing.T) {
	ad := &gateAdapter{gate: make(chan struct{}), started: make(chan struct{}, 2)}
	s := recstore.New(&recstore.Options{Adapter: ad, MaxConcurrentCalls: 1})
	defer s.Close()
	books := recstore.MustRegister[frBook](s, nil)
	done := make(chan error, 1)
	go func() {
		_, err := books.Find(context.Background(), "1", nil)
		done <- err
	}()
	<-ad.started
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := books.Find(ctx, "2", nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, int64(1), ad.calls.Load(), "the second call never started")
	require.Eventually(t, func() bool { return s.Stats().Waiting == 0 }, time.Second, time.Millisecond)
	close(ad.gate)
	require.NoError(t, <-done)
	_, ok := books.Peek("2")
	assert.False(t, ok)
	_, err = books.Find(context.Background(), "2", nil)
	require.NoError(t, err)
}

// TestStats counts hits, misses, stale hits, calls, shared waiters,
// coalesced batches and pushes.
func TestStats(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	ad := recstoretest.NewMemoryAdapter(frBooks(4))
	s := recstore.New(&recstore.Options{Adapter: ad, Clock: clock.Now, Expiry: &recstore.Expiry{Soft: time.Minute}})
	defer s.Close()
	books := recstore.MustRegister[frBook](s, nil)

	_, err := books.Find(ctx, "1", nil) // miss
	require.NoError(t, err)
	_, err = books.Find(ctx, "1", nil) // hit
	require.NoError(t, err)
	clock.Add(2 * time.Minute)
	_, err = books.Find(ctx, "1", nil) // stale hit
	require.NoError(t, err)
	s.Wait()
	_, err = books.Find(ctx, "404", nil) // miss, failed call
	require.ErrorIs(t, err, recstore.ErrNotFound)
	_, err = books.Push([]byte(frBooks(2)))
	require.NoError(t, err)

	st := s.Stats()
	assert.Equal(t, int64(1), st.Hits)
	assert.Equal(t, int64(1), st.StaleHits)
	assert.Equal(t, int64(2), st.Misses)
	assert.Equal(t, int64(3), st.AdapterCalls)
	assert.Equal(t, int64(1), st.AdapterErrors)
	assert.Equal(t, int64(2), st.Records)
	assert.Equal(t, st.Types["fr-books"].Records, st.Records)
	assert.Equal(t, int64(3), st.Pushes.Count, "two answers and a Push")
	assert.Len(t, st.Pushes.Counts, len(st.Pushes.Bounds)+1)
	assert.Equal(t, []string{"fr-books"}, st.TypeNames())

	// expvar: the same figures, as JSON.
	var got recstore.Stats
	require.NoError(t, json.Unmarshal([]byte(s.Var().String()), &got))
	assert.Equal(t, st.Hits, got.Hits)
	assert.Equal(t, st.Types["fr-books"].Misses, got.Types["fr-books"].Misses)
}

// TestStats_sharedAndCoalesced counts Finds that joined a call under way,
// and the batches coalesced Finds went out in.
func TestStats_sharedAndCoalesced(t *testing.T) {
	ad := &gateAdapter{gate: make(chan struct{}), started: make(chan struct{}, 10)}
	s := recstore.New(&recstore.Options{Adapter: ad})
	defer s.Close()
	books := recstore.MustRegister[frBook](s, nil)
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			_, err := books.Find(context.Background(), "1", nil)
			assert.NoError(t, err)
		})
	}
	<-ad.started
	require.Eventually(t, func() bool { return s.Stats().SharedWaiters == 4 }, 5*time.Second, time.Millisecond)
	close(ad.gate)
	wg.Wait()
	assert.Equal(t, int64(1), ad.calls.Load())

	m := recstoretest.NewMemoryAdapter(frBooks(6))
	s2 := recstore.New(&recstore.Options{Adapter: m, Coalesce: &recstore.CoalesceOptions{}})
	defer s2.Close()
	books2 := recstore.MustRegister[frBook](s2, nil)
	for i := range 6 {
		wg.Go(func() {
			_, err := books2.Find(context.Background(), strconv.Itoa(i+1), nil)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	st := s2.Stats()
	assert.Equal(t, int64(m.Calls("FindMany")), st.CoalescedBatches)
	assert.Positive(t, st.CoalescedBatches)
}

// TestDebugLogger gets an event per adapter call, and the Logger none.
func TestDebugLogger(t *testing.T) {
	var dbg, main bytes.Buffer
	ad := recstoretest.NewMemoryAdapter(frBooks(1))
	s := recstore.New(&recstore.Options{Adapter: ad,
		DebugLogger: slog.New(slog.NewJSONHandler(&dbg, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Logger:      slog.New(slog.NewJSONHandler(&main, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	defer s.Close()
	books := recstore.MustRegister[frBook](s, nil)
	_, err := books.Find(context.Background(), "1", nil)
	require.NoError(t, err)
	_, err = books.Find(context.Background(), "2", nil)
	require.Error(t, err)
	var lines []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(dbg.Bytes()), []byte("\n")) {
		var m map[string]any
		require.NoError(t, json.Unmarshal(l, &m))
		lines = append(lines, m)
	}
	require.Len(t, lines, 2)
	assert.Equal(t, "recstore: adapter call", lines[0]["msg"])
	assert.Equal(t, "FindRecord", lines[0]["op"])
	assert.Equal(t, "fr-books", lines[0]["type"])
	assert.Nil(t, lines[0]["err"])
	assert.NotNil(t, lines[1]["err"])
	assert.Empty(t, main.String())
}

// TestDebugLogger_panics: a DebugLogger whose handler panics changes
// nothing.
func TestDebugLogger_panics(t *testing.T) {
	ad := recstoretest.NewMemoryAdapter(frBooks(1))
	s := recstore.New(&recstore.Options{Adapter: ad, DebugLogger: slog.New(debugPanicHandler{})})
	defer s.Close()
	books := recstore.MustRegister[frBook](s, nil)
	_, err := books.Find(context.Background(), "1", nil)
	require.NoError(t, err)
	assert.Equal(t, int64(1), s.Stats().AdapterCalls)
}

type debugPanicHandler struct{ slog.Handler }

func (debugPanicHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (debugPanicHandler) Handle(context.Context, slog.Record) error { panic(errors.New("handler")) }

package recstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stRaceDocs are the backend of the race test: posts s1..s4 and comments
// k1..k4 on no post. Posts carry no relationships, so that a reload of one
// does not push a relationship under a local edit.
func stRaceDocs() []string {
	var docs []string
	for i := 1; i <= 4; i++ {
		docs = append(docs,
			fmt.Sprintf(`{"data": {"type": "stpost", "id": "s%d", "attributes": {"title": "T", "body": "B"}}}`, i),
			fmt.Sprintf(`{"data": {"type": "stcomment", "id": "k%d", "attributes": {"text": "K"}, "relationships": {"post": {"data": null}}}}`, i))
	}
	return docs
}

// Saves race pushes, Finds, Edits and Unloads of the same and other
// records from several goroutines. Posts s1 and s2 are never unloaded:
// the body edits made on them, during saves or not, must all be there at
// the end, as local changes or saved. s3 and s4 are unloaded and loaded
// again meanwhile. Comments move between posts and are saved. Afterwards
// no record is Saving, every State is sane, and inverses agree.
func TestSave_race(t *testing.T) {
	iters := 150
	if testing.Short() {
		iters = 40
	}
	docs := stRaceDocs()
	m := recstoretest.NewMemoryAdapter(docs...)
	ms := newSTModels(t, &stAdapter{MemoryAdapter: m})
	for _, d := range docs {
		_, err := ms.s.Push(d)
		require.NoError(t, err)
	}
	ctx := context.Background()
	posts := []string{"s1", "s2", "s3", "s4"}
	kept := []string{"s1", "s2"} // never unloaded
	lastBody := make([]atomic.Value, len(kept))

	// accept fails the test for an error none of targets matches.
	accept := func(what string, err error, targets ...error) {
		if err != nil && !stIs(err, targets...) {
			t.Errorf("%s: %v", what, err)
		}
	}
	var wg sync.WaitGroup
	// Savers: edit a title and save, on every post.
	for g := range 2 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for i := range iters {
				id := posts[r.IntN(len(posts))]
				_, err := ms.posts.Edit(id, func(p *stPost) { p.Title = fmt.Sprintf("saver%d-%d", g, i) })
				accept("edit "+id, err, recstore.ErrNotLoaded)
				_, err = ms.posts.Save(ctx, id)
				accept("save "+id, err, recstore.ErrNotLoaded)
			}
		})
	}
	// Body editors: one per kept post, the only writer of its body.
	for j, id := range kept {
		wg.Go(func() {
			for i := range iters {
				body := fmt.Sprintf("body-%s-%d", id, i)
				_, err := ms.posts.Edit(id, func(p *stPost) { p.Body = body })
				require.NoError(t, err)
				lastBody[j].Store(body)
				if i%3 == 0 {
					_, err := ms.posts.Save(ctx, id)
					require.NoError(t, err)
				}
			}
		})
	}
	// A pusher of new titles from the backend, and a reloader.
	wg.Go(func() {
		for i := range iters {
			id := posts[i%len(posts)]
			_, err := ms.s.Push(fmt.Sprintf(`{"data": {"type": "stpost", "id": %q, "attributes": {"title": "pushed-%d"}}}`, id, i))
			require.NoError(t, err)
		}
	})
	wg.Go(func() {
		for i := range iters {
			id := posts[(i+1)%len(posts)]
			_, err := ms.posts.Find(ctx, id, &recstore.FindOptions{Reload: recstore.ReloadAlways})
			accept("find "+id, err, recstore.ErrNotLoaded) // unloaded meanwhile
		}
	})
	// An unloader of s3 and s4, which loads them again.
	wg.Go(func() {
		for i := range iters {
			k := stK("stpost", posts[2+i%2])
			err := ms.s.Unload(k)
			accept("unload", err, recstore.ErrSaving, recstore.ErrNotLoaded)
			if i%2 == 0 {
				_, err = ms.posts.Find(ctx, k.ID, nil)
				accept("find "+k.ID, err, recstore.ErrNotLoaded)
			}
		}
	})
	// A mover of comments between posts, which saves them.
	wg.Go(func() {
		r := rand.New(rand.NewPCG(7, 7))
		for i := range iters {
			c := stK("stcomment", fmt.Sprintf("k%d", 1+r.IntN(4)))
			p := stK("stpost", kept[r.IntN(len(kept))])
			require.NoError(t, ms.s.SetRelated(c, "post", p))
			if i%2 == 0 {
				_, err := ms.s.Save(ctx, c)
				require.NoError(t, err)
			}
		}
	})
	wg.Wait()
	ms.s.Wait()

	for _, typ := range []string{"stpost", "stcomment"} {
		for _, k := range ms.s.Keys(typ) {
			st := ms.s.State(k)
			assert.False(t, st.Saving, "%v: Saving once every save returned", k)
			assert.Contains(t, []recstore.Status{recstore.StatusLoaded, recstore.StatusUpdated}, st.Status, "%v: %v", k, st.Name())
			assert.NoError(t, st.Err, "%v", k)
			assert.True(t, st.IsValid(), "%v", k)
			if st.Status == recstore.StatusLoaded {
				assert.Empty(t, ms.s.ChangedAttributes(k), "%v", k)
				assert.Empty(t, ms.s.ChangedRelationships(k), "%v", k)
			}
		}
	}
	t.Run("no lost edits", func(t *testing.T) {
		for j, id := range kept {
			p, ok := ms.posts.Peek(id)
			require.True(t, ok)
			assert.Equal(t, lastBody[j].Load(), p.Body, "%s: the last body edit is there", id)
			if _, changed := ms.posts.ChangedAttributes(id)["body"]; !changed {
				// Saved: the backend has it, and a reload keeps it.
				_, err := ms.posts.Find(ctx, id, &recstore.FindOptions{Reload: recstore.ReloadAlways})
				require.NoError(t, err)
				p, _ = ms.posts.Peek(id)
				assert.Equal(t, lastBody[j].Load(), p.Body, "%s: the last body edit was saved", id)
			}
		}
	})
	stCheckInverses(t, ms)
}

// stConcurrency counts the writes of each record in the adapter at once,
// and the most there ever were.
type stConcurrency struct {
	mu      sync.Mutex
	now     map[string]int
	max     int
	pause   time.Duration
	entered atomic.Int32
}

func (c *stConcurrency) before(op string, req *recstore.Request) {
	c.mu.Lock()
	if c.now == nil {
		c.now = map[string]int{}
	}
	c.now[req.ID]++
	c.max = max(c.max, c.now[req.ID])
	c.mu.Unlock()
	c.entered.Add(1)
	time.Sleep(c.pause)
}

func (c *stConcurrency) after(op string, req *recstore.Request) {
	c.mu.Lock()
	c.now[req.ID]--
	c.mu.Unlock()
}

// Concurrent Saves of one record never overlap in the adapter, and all
// complete; saves of different records do run at once.
func TestSave_serializedPerRecord(t *testing.T) {
	m := recstoretest.NewMemoryAdapter(stPostDoc("s1", "Server"), stPostDoc("s2", "Server"))
	c := &stConcurrency{pause: 2 * time.Millisecond}
	ms := newSTModels(t, &stAdapter{MemoryAdapter: m, before: c.before, after: c.after})
	for _, id := range []string{"s1", "s2"} {
		_, err := ms.s.Push(stPostDoc(id, "Server"))
		require.NoError(t, err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		for _, id := range []string{"s1", "s2"} {
			wg.Go(func() {
				_, err := ms.posts.Edit(id, func(p *stPost) { p.Title = fmt.Sprint("t", i) })
				if err == nil {
					_, err = ms.posts.Save(context.Background(), id)
				}
				errs <- err
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Equal(t, 1, c.max, "two saves of one record overlapped in the adapter")
	assert.Equal(t, 2*n, m.Calls("UpdateRecord"), "every save reached the adapter")
	for _, id := range []string{"s1", "s2"} {
		st := ms.posts.State(id)
		assert.False(t, st.Saving)
		assert.Equal(t, recstore.StatusLoaded, st.Status, "the last save sent the last edit: %v", ms.posts.ChangedAttributes(id))
	}
}

// Close fails the saves waiting for their turn with ErrClosed, and waits
// for the one in flight, which completes once the adapter lets it; a Save
// after Close fails with ErrClosed.
func TestSave_close(t *testing.T) {
	e := newSTEnv(t)
	stSetup(e, "edited")
	e.saveHeld()

	waiting := make(chan error, 1)
	go func() {
		_, err := e.s.Save(context.Background(), e.key)
		waiting <- err
	}()
	time.Sleep(20 * time.Millisecond) // let it wait for its turn
	closed := make(chan error, 1)
	go func() { closed <- e.s.Close() }()

	assert.ErrorIs(t, stWait(t, waiting, "the waiting save"), recstore.ErrClosed)
	select {
	case <-closed:
		t.Fatal("Close returned while a save was in flight")
	case <-time.After(20 * time.Millisecond):
	}
	assert.True(t, e.s.State(e.key).Saving, "the held save is still in flight")

	close(e.hold.release)
	assert.NoError(t, stWait(t, e.held, "the held save"), "the save in flight completes")
	e.held = nil
	assert.NoError(t, stWait(t, closed, "Close"))
	st := e.s.State(e.key)
	assert.False(t, st.Saving)
	assert.Equal(t, "root.loaded.saved", st.Name())
	assert.True(t, e.m.Has("stpost", "s1"))

	require.NoError(t, e.edit("After"))
	_, err := e.s.Save(context.Background(), e.key)
	assert.ErrorIs(t, err, recstore.ErrClosed, "a Save after Close")
	assert.Equal(t, 1, e.m.Calls("UpdateRecord"), "only the held save reached the adapter")
	assert.Equal(t, recstore.StatusUpdated, e.s.State(e.key).Status, "the refused save left the edit")
}

// A panic in the Adapter's CreateRecord or UpdateRecord is returned as an
// error wrapping ErrPanic; the record is not left Saving, keeps its
// changes, and saves again.
func TestSave_adapterPanics(t *testing.T) {
	for _, tt := range []struct{ setup, op string }{
		{"created with id", "CreateRecord"},
		{"created without id", "CreateRecord"},
		{"edited", "UpdateRecord"},
		{"deleted", "DeleteRecord"},
	} {
		t.Run(tt.setup, func(t *testing.T) {
			m := recstoretest.NewMemoryAdapter(stPostDoc("s1", "Server"))
			var armed atomic.Bool
			armed.Store(true)
			ad := &stAdapter{MemoryAdapter: m, before: func(op string, req *recstore.Request) {
				if op == tt.op && armed.CompareAndSwap(true, false) {
					panic("adapter bug")
				}
			}}
			e := &stEnv{t: t, m: m, hold: newSTHold()}
			e.stModels = newSTModels(t, ad)
			stSetup(e, tt.setup)
			before := e.s.State(e.key)
			changed := e.s.ChangedAttributes(e.key)

			_, err := e.s.Save(context.Background(), e.key)
			require.ErrorIs(t, err, recstore.ErrPanic)
			var pe *recstore.PanicError
			assert.ErrorAs(t, err, &pe)
			var ae *recstore.AdapterError
			if assert.ErrorAs(t, err, &ae) {
				assert.Equal(t, tt.op, ae.Op)
			}
			st := e.s.State(e.key)
			assert.False(t, st.Saving, "not Saving after the panic")
			assert.Equal(t, before.Status, st.Status, "the changes stay")
			assert.ErrorIs(t, st.Err, recstore.ErrPanic, "State.Err")
			assert.Equal(t, changed, e.s.ChangedAttributes(e.key))

			k, err := e.s.Save(context.Background(), e.key)
			require.NoError(t, err, "saves again")
			st = e.s.State(k)
			assert.False(t, st.Saving)
			assert.NoError(t, st.Err)
			assert.Contains(t, []recstore.Status{recstore.StatusLoaded, recstore.StatusDeletedSaved}, st.Status, st.Name())
			assert.Equal(t, 2, m.Calls(tt.op)+1, "the panicking call never reached the MemoryAdapter")
		})
	}
}

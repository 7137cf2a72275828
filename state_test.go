package recstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The models of the record lifecycle tests (state_test.go,
// state_rel_test.go, save_race_test.go): a post with an author (to-one,
// inverse author.posts) and comments (to-many, inverse comment.post), and
// a task with Key relation fields: an owner (to-one, inverse
// owner.owned) and tags (many-to-many, inverse tag.tagged). Key relations
// name no type, so their inverses' names are unique across the models.

type stPost struct {
	ID       string       `jsonapi:"primary,stpost"`
	Title    string       `jsonapi:"attr,title"`
	Body     string       `jsonapi:"attr,body"`
	Author   *stAuthor    `jsonapi:"relation,author" recstore:"inverse=posts"`
	Comments []*stComment `jsonapi:"relation,comments" recstore:"inverse=post"`
}

type stAuthor struct {
	ID    string    `jsonapi:"primary,stauthor"`
	Name  string    `jsonapi:"attr,name"`
	Posts []*stPost `jsonapi:"relation,posts" recstore:"inverse=author"`
}

type stComment struct {
	ID   string  `jsonapi:"primary,stcomment"`
	Text string  `jsonapi:"attr,text"`
	Post *stPost `jsonapi:"relation,post" recstore:"inverse=comments"`
}

type stTask struct {
	ID    string         `jsonapi:"primary,sttask"`
	Title string         `jsonapi:"attr,title"`
	Owner recstore.Key   `jsonapi:"relation,owner" recstore:"inverse=owned"`
	Tags  []recstore.Key `jsonapi:"relation,tags" recstore:"inverse=tagged"`
}

type stOwner struct {
	ID    string         `jsonapi:"primary,stowner"`
	Name  string         `jsonapi:"attr,name"`
	Owned []recstore.Key `jsonapi:"relation,owned" recstore:"inverse=owner"`
}

type stTag struct {
	ID     string         `jsonapi:"primary,sttag"`
	Label  string         `jsonapi:"attr,label"`
	Tagged []recstore.Key `jsonapi:"relation,tagged" recstore:"inverse=tags"`
}

// stAdapter is a MemoryAdapter whose writes can be watched, held and made
// to panic: before runs before the MemoryAdapter's method, after once it
// returned (the backend has stored the write, the Store does not know
// yet). Set them before the Store uses the adapter.
type stAdapter struct {
	*recstoretest.MemoryAdapter
	before func(op string, req *recstore.Request)
	after  func(op string, req *recstore.Request)
}

func (a *stAdapter) hook(f func(string, *recstore.Request), op string, req *recstore.Request) {
	if f != nil {
		f(op, req)
	}
}

func (a *stAdapter) CreateRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	a.hook(a.before, "CreateRecord", req)
	defer a.hook(a.after, "CreateRecord", req)
	return a.MemoryAdapter.CreateRecord(ctx, req)
}

func (a *stAdapter) UpdateRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	a.hook(a.before, "UpdateRecord", req)
	defer a.hook(a.after, "UpdateRecord", req)
	return a.MemoryAdapter.UpdateRecord(ctx, req)
}

func (a *stAdapter) DeleteRecord(ctx context.Context, req *recstore.Request) error {
	a.hook(a.before, "DeleteRecord", req)
	defer a.hook(a.after, "DeleteRecord", req)
	return a.MemoryAdapter.DeleteRecord(ctx, req)
}

// stHold holds the next write in the adapter once it has been stored,
// until release.
type stHold struct {
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func newSTHold() *stHold {
	return &stHold{entered: make(chan struct{}, 1), release: make(chan struct{})}
}

func (h *stHold) after(op string, req *recstore.Request) {
	if h.armed.CompareAndSwap(true, false) {
		h.entered <- struct{}{}
		<-h.release
	}
}

// stWait waits for ch, failing the test after a while.
func stWait[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		require.FailNow(t, "timed out waiting for "+what)
	}
	var zero T
	return zero
}

// stModels is a Store with the lifecycle models registered.
type stModels struct {
	s        *recstore.Store
	posts    *recstore.Model[stPost]
	authors  *recstore.Model[stAuthor]
	comments *recstore.Model[stComment]
	tasks    *recstore.Model[stTask]
	owners   *recstore.Model[stOwner]
	tags     *recstore.Model[stTag]
}

func newSTModels(t testing.TB, ad recstore.Adapter) stModels {
	t.Helper()
	s := recstore.New(&recstore.Options{Adapter: ad})
	t.Cleanup(func() { _ = s.Close() })
	var m stModels
	var err error
	m.s = s
	m.posts, err = recstore.Register[stPost](s, nil)
	require.NoError(t, err)
	m.authors, err = recstore.Register[stAuthor](s, nil)
	require.NoError(t, err)
	m.comments, err = recstore.Register[stComment](s, nil)
	require.NoError(t, err)
	m.tasks, err = recstore.Register[stTask](s, nil)
	require.NoError(t, err)
	m.owners, err = recstore.Register[stOwner](s, nil)
	require.NoError(t, err)
	m.tags, err = recstore.Register[stTag](s, nil)
	require.NoError(t, err)
	return m
}

// stPostDoc is a document of post id with a title.
func stPostDoc(id, title string) string {
	return fmt.Sprintf(`{"data": {"type": "stpost", "id": %q, "attributes": {"title": %q, "body": "b"}}}`, id, title)
}

// stEnv is one row's Store, backend and record under test.
type stEnv struct {
	t testing.TB
	stModels
	m      *recstoretest.MemoryAdapter
	hold   *stHold
	key    recstore.Key // as the setup made it (a local identifier for a record created without an id)
	server string       // the backend's title ("" for a new record)
	held   chan error   // the held save's result, nil if none is held
}

func newSTEnv(t testing.TB) *stEnv {
	m := recstoretest.NewMemoryAdapter(stPostDoc("s1", "Server"))
	h := newSTHold()
	e := &stEnv{t: t, m: m, hold: h}
	e.stModels = newSTModels(t, &stAdapter{MemoryAdapter: m, after: h.after})
	return e
}

// saveHeld starts a save that the adapter holds once the backend has
// stored it, and returns when it is held.
func (e *stEnv) saveHeld() {
	e.t.Helper()
	e.hold.armed.Store(true)
	e.held = make(chan error, 1)
	go func() {
		_, err := e.s.Save(context.Background(), e.key)
		e.held <- err
	}()
	stWait(e.t, e.hold.entered, "the save to reach the adapter")
}

// releaseHeld lets the held save finish and checks that it succeeded.
func (e *stEnv) releaseHeld() {
	e.t.Helper()
	if e.held == nil {
		return
	}
	close(e.hold.release)
	assert.NoError(e.t, stWait(e.t, e.held, "the held save"), "the held save")
	e.held = nil
}

// save saves the record; with a save held, it waits for its turn while the
// held one is released.
func (e *stEnv) save() error {
	if e.held == nil {
		_, err := e.s.Save(context.Background(), e.key)
		return err
	}
	done := make(chan error, 1)
	go func() {
		_, err := e.s.Save(context.Background(), e.key)
		done <- err
	}()
	e.releaseHeld()
	return stWait(e.t, done, "the second save")
}

func (e *stEnv) edit(title string) error {
	_, err := e.posts.Edit(e.key.ID, func(p *stPost) { p.Title = title })
	return err
}

func (e *stEnv) push(title string) error {
	_, err := e.s.Push(stPostDoc(e.key.ID, title))
	return err
}

// stSetup builds the starting state setup of the lifecycle table.
func stSetup(e *stEnv, setup string) {
	switch setup {
	case "clean":
		_, err := e.s.Push(stPostDoc("s1", "Server"))
		require.NoError(e.t, err)
		e.key, e.server = recstore.Key{Type: "stpost", ID: "s1"}, "Server"
	case "created with id":
		k, err := e.posts.Create(stPost{ID: "9", Title: "New"})
		require.NoError(e.t, err)
		require.Equal(e.t, recstore.Key{Type: "stpost", ID: "9"}, k)
		e.key = k
	case "created without id":
		k, err := e.posts.Create(stPost{Title: "New"})
		require.NoError(e.t, err)
		require.True(e.t, strings.HasPrefix(k.ID, recstore.LIDPrefix+"stpost-"), "a local identifier: %v", k)
		e.key = k
	case "edited":
		stSetup(e, "clean")
		require.NoError(e.t, e.edit("Local"))
	case "deleted":
		stSetup(e, "clean")
		require.NoError(e.t, e.posts.Delete("s1"))
	case "saving":
		stSetup(e, "edited")
		e.saveHeld()
	case "invalid":
		stSetup(e, "edited")
		e.m.FailNext("UpdateRecord", recstoretest.Invalid("/data/attributes/title", "can't be blank"))
		require.ErrorIs(e.t, e.save(), recstore.ErrInvalid)
	case "error":
		stSetup(e, "edited")
		e.m.FailNext("UpdateRecord", &recstore.BackendError{Status: 500})
		require.ErrorIs(e.t, e.save(), recstore.ErrServer)
	case "deleted saved":
		stSetup(e, "deleted")
		require.NoError(e.t, e.save())
	case "created saving":
		stSetup(e, "created with id")
		e.saveHeld()
	case "created invalid":
		stSetup(e, "created with id")
		e.m.FailNext("CreateRecord", recstoretest.Invalid("/data/attributes/title", "can't be blank"))
		require.ErrorIs(e.t, e.save(), recstore.ErrInvalid)
	case "deleted saving":
		stSetup(e, "deleted")
		e.saveHeld()
	default:
		panic("no setup " + setup)
	}
}

// stActions are what a row does to the record once set up.
var stActions = map[string]func(e *stEnv) error{
	"none": func(e *stEnv) error { return nil },
	"edit": func(e *stEnv) error { return e.edit("Edited") },
	// SetAttr to the backend's value ("" for a new record).
	"set back": func(e *stEnv) error { return e.s.SetAttr(e.key, "title", e.server) },
	"delete":   func(e *stEnv) error { return e.posts.Delete(e.key.ID) },
	"rollback": func(e *stEnv) error { return e.posts.Rollback(e.key.ID) },
	"save":     func(e *stEnv) error { return e.save() },
	"save fails": func(e *stEnv) error {
		for _, op := range []string{"CreateRecord", "UpdateRecord", "DeleteRecord"} {
			e.m.FailNext(op, &recstore.BackendError{Status: 500})
		}
		return e.save()
	},
	"push":       func(e *stEnv) error { return e.push("Pushed") },
	"push local": func(e *stEnv) error { return e.push("Local") },
	"unload":     func(e *stEnv) error { return e.posts.Unload(e.key.ID) },
	// Actions that must change nothing.
	"create same id": func(e *stEnv) error {
		_, err := e.posts.Create(stPost{ID: e.key.ID, Title: "Other"})
		return err
	},
	"edit id": func(e *stEnv) error {
		_, err := e.posts.Edit(e.key.ID, func(p *stPost) { p.ID = "other"; p.Title = "Other" })
		return err
	},
}

// stWant is what a row expects of the record after its action.
type stWant struct {
	err     error // errors.Is the action's error; nil: no error
	anyErr  bool  // the action fails, whatever the error
	status  recstore.Status
	saving  bool
	dirty   bool
	isNew   bool
	invalid bool // State.Errors is {"title": ["can't be blank"]}
	failed  bool // State.Err is set
	changed map[string]recstore.Change
	title   string // Peek's Title
	peek    bool   // Peek reads it
	listed  bool   // All, Len and Keys hold it
}

func stTitle(old any, new string) map[string]recstore.Change {
	return map[string]recstore.Change{"title": {Old: old, New: new}}
}

func stLoaded(title string) stWant {
	return stWant{status: recstore.StatusLoaded, title: title, peek: true, listed: true}
}

func stUpdated(old, new string) stWant {
	return stWant{status: recstore.StatusUpdated, dirty: true, changed: stTitle(old, new), title: new, peek: true, listed: true}
}

func stCreated(title string) stWant {
	w := stWant{status: recstore.StatusCreated, dirty: true, isNew: true, title: title, peek: true, listed: true}
	if title != "" {
		w.changed = stTitle(nil, title)
	}
	return w
}

func stDeleted(title string) stWant {
	return stWant{status: recstore.StatusDeleted, dirty: true, title: title, peek: true, listed: true}
}

func stGone(title string) stWant {
	return stWant{status: recstore.StatusDeletedSaved, title: title, peek: true}
}

func stEmpty() stWant { return stWant{status: recstore.StatusEmpty} }

func (w stWant) inFlight() stWant                         { w.saving = true; return w }
func (w stWant) inValid() stWant                          { w.invalid = true; return w }
func (w stWant) withErr() stWant                          { w.failed = true; return w }
func (w stWant) returns(err error) stWant                 { w.err = err; return w }
func (w stWant) fails() stWant                            { w.anyErr = true; return w }
func (w stWant) with(c map[string]recstore.Change) stWant { w.changed = c; return w }

// check asserts that the record is as w says, its state named name.
func (e *stEnv) check(t *testing.T, name string, w stWant) {
	t.Helper()
	k := e.s.Resolve(e.key)
	st := e.s.State(k)
	assert.Equal(t, w.status, st.Status, "Status")
	assert.Equal(t, w.saving, st.Saving, "Saving")
	assert.Equal(t, name, st.Name(), "Name")
	assert.Equal(t, w.dirty, st.IsDirty(), "IsDirty")
	assert.Equal(t, w.isNew, st.IsNew(), "IsNew")
	assert.Equal(t, w.status == recstore.StatusDeleted || w.status == recstore.StatusDeletedSaved, st.IsDeleted(), "IsDeleted")
	assert.Equal(t, !w.invalid, st.IsValid(), "IsValid: %v", st.Errors)
	if w.invalid {
		assert.Equal(t, map[string][]string{"title": {"can't be blank"}}, st.Errors, "Errors")
	}
	assert.Equal(t, w.failed, st.Err != nil, "Err: %v", st.Err)
	assert.Equal(t, st, e.posts.State(k.ID), "Model.State")

	want := w.changed
	if len(want) == 0 {
		want = nil // no changes: a nil map
	}
	assert.Equal(t, want, e.s.ChangedAttributes(k), "ChangedAttributes")
	assert.Equal(t, want, e.posts.ChangedAttributes(k.ID), "Model.ChangedAttributes")

	p, ok := e.posts.Peek(k.ID)
	assert.Equal(t, w.peek, ok, "Peek")
	if ok {
		assert.Equal(t, w.title, p.Title, "Peek's Title")
		wantID := k.ID
		if strings.HasPrefix(k.ID, recstore.LIDPrefix) {
			wantID = "" // no id of its own yet
		}
		assert.Equal(t, wantID, p.ID, "Peek's ID")
	}
	if k != e.key { // a key kept from Create goes on naming the record
		p2, ok2 := e.posts.Peek(e.key.ID)
		assert.Equal(t, ok, ok2, "Peek by the local identifier")
		assert.Equal(t, p, p2, "Peek by the local identifier")
	}
	var all []string
	for id := range e.posts.All() {
		all = append(all, id)
	}
	assert.Equal(t, w.listed, slices.Contains(all, k.ID), "All: %v", all)
	assert.Len(t, all, e.posts.Len(), "Len counts what All lists")
	assert.Equal(t, w.listed, slices.Contains(e.s.Keys("stpost"), k), "Keys")
	assert.Len(t, e.s.Keys("stpost"), e.s.Len("stpost"), "Store.Len")
}

// Every transition of the record lifecycle (Ember Data's createRecord,
// set, deleteRecord, rollbackAttributes, save, push, unloadRecord: see
// the reference's §1.10-§1.14) from every starting state: the error, the
// State (with Ember's stateName), ChangedAttributes and whether Peek, All,
// Len and Keys see the record. Rows whose setup holds a save in flight
// are checked while it is held, and again (after) once it completed.
func TestLifecycle_transitions(t *testing.T) {
	const (
		saved     = "root.loaded.saved"
		updated   = "root.loaded.updated.uncommitted"
		updFlight = "root.loaded.updated.inFlight"
		updInval  = "root.loaded.updated.invalid"
		created   = "root.loaded.created.uncommitted"
		crFlight  = "root.loaded.created.inFlight"
		crInval   = "root.loaded.created.invalid"
		deleted   = "root.deleted.uncommitted"
		delFlight = "root.deleted.inFlight"
		delInval  = "root.deleted.invalid"
		delSaved  = "root.deleted.saved"
		empty     = "root.empty"
	)
	type row struct {
		setup, action string
		name          string
		want          stWant
		afterName     string // for a held save: once it completed
		after         stWant
	}
	rows := []row{
		{setup: "clean", action: "none", name: saved, want: stLoaded("Server")},
		{setup: "clean", action: "edit", name: updated, want: stUpdated("Server", "Edited")},
		{setup: "clean", action: "set back", name: saved, want: stLoaded("Server")},
		{setup: "clean", action: "delete", name: deleted, want: stDeleted("Server")},
		{setup: "clean", action: "rollback", name: saved, want: stLoaded("Server")},
		{setup: "clean", action: "save", name: saved, want: stLoaded("Server")},
		{setup: "clean", action: "save fails", name: saved, want: stLoaded("Server").withErr().returns(recstore.ErrServer)},
		{setup: "clean", action: "push", name: saved, want: stLoaded("Pushed")},
		{setup: "clean", action: "push local", name: saved, want: stLoaded("Local")},
		{setup: "clean", action: "unload", name: empty, want: stEmpty()},

		// createRecord: root.loaded.created.uncommitted, [nil, value].
		{setup: "created with id", action: "none", name: created, want: stCreated("New")},
		{setup: "created with id", action: "edit", name: created, want: stCreated("Edited")},
		{setup: "created with id", action: "set back", name: created, want: stCreated("")},
		{setup: "created with id", action: "delete", name: empty, want: stEmpty()},
		{setup: "created with id", action: "rollback", name: empty, want: stEmpty()},
		{setup: "created with id", action: "save", name: saved, want: stLoaded("New")},
		{setup: "created with id", action: "save fails", name: created, want: stCreated("New").withErr().returns(recstore.ErrServer)},
		// A push of a record created here updates what it did not set;
		// it stays new, its local values kept.
		{setup: "created with id", action: "push", name: created, want: stCreated("New")},
		{setup: "created with id", action: "unload", name: empty, want: stEmpty()},

		{setup: "created without id", action: "none", name: created, want: stCreated("New")},
		{setup: "created without id", action: "edit", name: created, want: stCreated("Edited")},
		{setup: "created without id", action: "set back", name: created, want: stCreated("")},
		{setup: "created without id", action: "delete", name: empty, want: stEmpty()},
		{setup: "created without id", action: "rollback", name: empty, want: stEmpty()},
		{setup: "created without id", action: "save", name: saved, want: stLoaded("New")},
		{setup: "created without id", action: "save fails", name: created, want: stCreated("New").withErr().returns(recstore.ErrServer)},
		// A backend cannot write into a record it has never seen.
		{setup: "created without id", action: "push", name: created, want: stCreated("New").fails()},
		{setup: "created without id", action: "push local", name: created, want: stCreated("New").fails()},
		{setup: "created without id", action: "unload", name: empty, want: stEmpty()},

		{setup: "edited", action: "none", name: updated, want: stUpdated("Server", "Local")},
		{setup: "edited", action: "edit", name: updated, want: stUpdated("Server", "Edited")},
		{setup: "edited", action: "set back", name: saved, want: stLoaded("Server")},
		{setup: "edited", action: "delete", name: deleted, want: stDeleted("Local").with(stTitle("Server", "Local"))},
		{setup: "edited", action: "rollback", name: saved, want: stLoaded("Server")},
		{setup: "edited", action: "save", name: saved, want: stLoaded("Local")},
		{setup: "edited", action: "save fails", name: updated, want: stUpdated("Server", "Local").withErr().returns(recstore.ErrServer)},
		// A push under a local edit updates the backend's value, keeps the
		// local one; one equal to the local value makes it clean.
		{setup: "edited", action: "push", name: updated, want: stUpdated("Pushed", "Local")},
		{setup: "edited", action: "push local", name: saved, want: stLoaded("Local")},
		{setup: "edited", action: "unload", name: empty, want: stEmpty()},

		{setup: "deleted", action: "none", name: deleted, want: stDeleted("Server")},
		{setup: "deleted", action: "edit", name: deleted, want: stDeleted("Edited").with(stTitle("Server", "Edited"))},
		{setup: "deleted", action: "set back", name: deleted, want: stDeleted("Server")},
		{setup: "deleted", action: "delete", name: deleted, want: stDeleted("Server")},
		// Rollback of a deleted record brings it back into All.
		{setup: "deleted", action: "rollback", name: saved, want: stLoaded("Server")},
		{setup: "deleted", action: "save", name: delSaved, want: stGone("Server")},
		{setup: "deleted", action: "save fails", name: deleted, want: stDeleted("Server").withErr().returns(recstore.ErrServer)},
		{setup: "deleted", action: "push", name: deleted, want: stDeleted("Pushed")},
		{setup: "deleted", action: "push local", name: deleted, want: stDeleted("Local")},
		{setup: "deleted", action: "unload", name: empty, want: stEmpty()},

		// An update of "Local" held in the adapter.
		{setup: "saving", action: "none", name: updFlight, want: stUpdated("Server", "Local").inFlight(),
			afterName: saved, after: stLoaded("Local")},
		{setup: "saving", action: "edit", name: updFlight, want: stUpdated("Server", "Edited").inFlight(),
			afterName: updated, after: stUpdated("Local", "Edited")},
		{setup: "saving", action: "set back", name: updFlight, want: stUpdated("Server", "Server").inFlight(),
			afterName: updated, after: stUpdated("Local", "Server")},
		{setup: "saving", action: "delete", name: delFlight, want: stDeleted("Local").with(stTitle("Server", "Local")).inFlight(),
			afterName: deleted, after: stDeleted("Local")},
		// The changes being saved stay.
		{setup: "saving", action: "rollback", name: updFlight, want: stUpdated("Server", "Local").inFlight(),
			afterName: saved, after: stLoaded("Local")},
		// The second save waits for the first; both complete.
		{setup: "saving", action: "save", name: saved, want: stLoaded("Local")},
		{setup: "saving", action: "save fails", name: saved, want: stLoaded("Local").withErr().returns(recstore.ErrServer)},
		{setup: "saving", action: "push", name: updFlight, want: stUpdated("Pushed", "Local").inFlight(),
			afterName: saved, after: stLoaded("Local")},
		// The backend's value, pushed, is the local one: nothing is left to
		// change, but the save is still in flight.
		{setup: "saving", action: "push local", name: updFlight, want: stLoaded("Local").inFlight(),
			afterName: saved, after: stLoaded("Local")},
		{setup: "saving", action: "unload", name: updFlight, want: stUpdated("Server", "Local").inFlight().returns(recstore.ErrSaving),
			afterName: saved, after: stLoaded("Local")},

		{setup: "invalid", action: "none", name: updInval, want: stUpdated("Server", "Local").inValid()},
		// Changing the invalid attribute clears its errors.
		{setup: "invalid", action: "edit", name: updated, want: stUpdated("Server", "Edited")},
		{setup: "invalid", action: "set back", name: saved, want: stLoaded("Server")},
		{setup: "invalid", action: "delete", name: delInval, want: stDeleted("Local").with(stTitle("Server", "Local")).inValid()},
		{setup: "invalid", action: "rollback", name: saved, want: stLoaded("Server")},
		{setup: "invalid", action: "save", name: saved, want: stLoaded("Local")},
		{setup: "invalid", action: "save fails", name: updated, want: stUpdated("Server", "Local").withErr().returns(recstore.ErrServer)},
		{setup: "invalid", action: "push", name: updInval, want: stUpdated("Pushed", "Local").inValid()},
		// Clean, so not "updated.invalid" (Ember's order checks dirtiness
		// first), but the errors stay until the next save.
		{setup: "invalid", action: "push local", name: saved, want: stLoaded("Local").inValid()},
		{setup: "invalid", action: "unload", name: empty, want: stEmpty()},

		{setup: "error", action: "none", name: updated, want: stUpdated("Server", "Local").withErr()},
		{setup: "error", action: "edit", name: updated, want: stUpdated("Server", "Edited").withErr()},
		{setup: "error", action: "set back", name: saved, want: stLoaded("Server").withErr()},
		{setup: "error", action: "delete", name: deleted, want: stDeleted("Local").with(stTitle("Server", "Local")).withErr()},
		{setup: "error", action: "rollback", name: saved, want: stLoaded("Server")},
		{setup: "error", action: "save", name: saved, want: stLoaded("Local")},
		{setup: "error", action: "save fails", name: updated, want: stUpdated("Server", "Local").withErr().returns(recstore.ErrServer)},
		{setup: "error", action: "push", name: updated, want: stUpdated("Pushed", "Local").withErr()},
		{setup: "error", action: "push local", name: saved, want: stLoaded("Local").withErr()},
		{setup: "error", action: "unload", name: empty, want: stEmpty()},

		// Peek still reads it; All, Len and Keys no longer hold it.
		{setup: "deleted saved", action: "none", name: delSaved, want: stGone("Server")},
		{setup: "deleted saved", action: "edit", name: delSaved, want: stGone("Server").returns(recstore.ErrDeleted)},
		{setup: "deleted saved", action: "set back", name: delSaved, want: stGone("Server").returns(recstore.ErrDeleted)},
		{setup: "deleted saved", action: "delete", name: delSaved, want: stGone("Server")},
		{setup: "deleted saved", action: "rollback", name: delSaved, want: stGone("Server")},
		{setup: "deleted saved", action: "save", name: delSaved, want: stGone("Server")},
		{setup: "deleted saved", action: "save fails", name: delSaved, want: stGone("Server")},
		// Later pushes update it, but it stays deleted.
		{setup: "deleted saved", action: "push", name: delSaved, want: stGone("Pushed")},
		{setup: "deleted saved", action: "push local", name: delSaved, want: stGone("Local")},
		{setup: "deleted saved", action: "unload", name: empty, want: stEmpty()},

		{setup: "created saving", action: "none", name: crFlight, want: stCreated("New").inFlight(),
			afterName: saved, after: stLoaded("New")},
		{setup: "created saving", action: "edit", name: crFlight, want: stCreated("Edited").inFlight(),
			afterName: updated, after: stUpdated("New", "Edited")},
		{setup: "created saving", action: "delete", name: crFlight, want: stCreated("New").inFlight().returns(recstore.ErrSaving),
			afterName: saved, after: stLoaded("New")},
		{setup: "created saving", action: "rollback", name: crFlight, want: stCreated("New").inFlight(),
			afterName: saved, after: stLoaded("New")},
		{setup: "created saving", action: "unload", name: crFlight, want: stCreated("New").inFlight().returns(recstore.ErrSaving),
			afterName: saved, after: stLoaded("New")},
		{setup: "created saving", action: "save", name: saved, want: stLoaded("New")},

		{setup: "created invalid", action: "none", name: crInval, want: stCreated("New").inValid()},
		{setup: "created invalid", action: "edit", name: created, want: stCreated("Edited")},
		{setup: "created invalid", action: "rollback", name: empty, want: stEmpty()},
		{setup: "created invalid", action: "save", name: saved, want: stLoaded("New")},

		{setup: "deleted saving", action: "none", name: delFlight, want: stDeleted("Server").inFlight(),
			afterName: delSaved, after: stGone("Server")},
		// The deletion being saved stays.
		{setup: "deleted saving", action: "rollback", name: delFlight, want: stDeleted("Server").inFlight(),
			afterName: delSaved, after: stGone("Server")},
		{setup: "deleted saving", action: "push", name: delFlight, want: stDeleted("Pushed").inFlight(),
			afterName: delSaved, after: stGone("Pushed")},
		{setup: "deleted saving", action: "unload", name: delFlight, want: stDeleted("Server").inFlight().returns(recstore.ErrSaving),
			afterName: delSaved, after: stGone("Server")},
		{setup: "deleted saving", action: "save", name: delSaved, want: stGone("Server")},
	}
	// Actions that must change nothing: from every setup, the state is the
	// one the setup left ("none").
	for _, r := range rows {
		if r.action != "none" {
			continue
		}
		idInUse := r
		idInUse.action, idInUse.want = "create same id", r.want.returns(recstore.ErrIDInUse)
		readOnly := r
		readOnly.action, readOnly.want = "edit id", r.want.returns(recstore.ErrReadOnlyID)
		rows = append(rows, idInUse, readOnly)
	}

	for _, r := range rows {
		t.Run(r.setup+"/"+r.action, func(t *testing.T) {
			t.Parallel()
			e := newSTEnv(t)
			defer e.releaseHeld()
			stSetup(e, r.setup)
			err := stActions[r.action](e)
			switch {
			case r.want.anyErr:
				assert.Error(t, err)
			case r.want.err != nil:
				assert.ErrorIs(t, err, r.want.err)
			default:
				assert.NoError(t, err)
			}
			e.check(t, r.name, r.want)
			if r.afterName != "" {
				require.NotNil(t, e.held, "no save is held")
				e.releaseHeld()
				t.Run("after", func(t *testing.T) { e.check(t, r.afterName, r.after) })
			} else {
				require.Nil(t, e.held, "a held save needs an after state")
			}
		})
	}
}

// A failed save returns an *AdapterError naming the operation, whatever
// the Adapter's error.
func TestLifecycle_saveErrorOp(t *testing.T) {
	for _, tt := range []struct{ setup, op string }{
		{"created with id", "CreateRecord"},
		{"edited", "UpdateRecord"},
		{"deleted", "DeleteRecord"},
	} {
		t.Run(tt.setup, func(t *testing.T) {
			e := newSTEnv(t)
			stSetup(e, tt.setup)
			e.m.FailNext(tt.op, &recstore.BackendError{Status: 500})
			err := e.save()
			var ae *recstore.AdapterError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tt.op, ae.Op)
			assert.Equal(t, "stpost", ae.Type)
			assert.ErrorIs(t, e.s.State(e.key).Err, recstore.ErrServer, "State.Err keeps the error")
			require.NoError(t, e.save(), "a retry")
			assert.Nil(t, e.s.State(e.key).Err, "a success clears Err")
		})
	}
}

// A record created without an id goes by its local identifier until its
// save; then Resolve gives the backend's id, Peek reads it by both, and
// Create with the new id is refused.
func TestLifecycle_createdWithoutID(t *testing.T) {
	e := newSTEnv(t)
	stSetup(e, "created without id")
	lid := e.key
	p, ok := e.posts.Peek(lid.ID)
	require.True(t, ok, "Peek by the local identifier")
	assert.Empty(t, p.ID, "no id of its own yet")
	assert.Equal(t, lid, e.s.Resolve(lid), "no id yet")

	k, err := e.s.Save(context.Background(), lid)
	require.NoError(t, err)
	assert.False(t, strings.HasPrefix(k.ID, recstore.LIDPrefix), "the backend's id: %v", k)
	assert.Equal(t, k, e.s.Resolve(lid))
	assert.True(t, e.m.Has("stpost", k.ID))
	assert.Equal(t, 1, e.m.Calls("CreateRecord"))
	p, ok = e.posts.Peek(k.ID)
	require.True(t, ok)
	assert.Equal(t, k.ID, p.ID)
	assert.Equal(t, "New", p.Title)

	_, err = e.posts.Create(stPost{ID: k.ID})
	assert.ErrorIs(t, err, recstore.ErrIDInUse)
	_, err = e.posts.Create(stPost{ID: lid.ID})
	assert.ErrorIs(t, err, recstore.ErrIDInUse, "the local identifier still names the record")

	// It is an ordinary record now: an edit and save update it.
	_, err = e.posts.Edit(lid.ID, func(p *stPost) { p.Title = "Renamed" })
	require.NoError(t, err, "Edit by the local identifier")
	assert.Equal(t, stTitle("New", "Renamed"), e.posts.ChangedAttributes(k.ID))
	_, err = e.s.Save(context.Background(), lid)
	require.NoError(t, err)
	assert.Equal(t, 1, e.m.Calls("UpdateRecord"))
	assert.Equal(t, recstore.StatusLoaded, e.posts.State(k.ID).Status)
}

// Unloading a new record, or deleting or rolling it back, frees its id: a
// later Create with that id makes a fresh record.
func TestLifecycle_createAfterUnload(t *testing.T) {
	for _, action := range []string{"unload", "delete", "rollback"} {
		t.Run(action, func(t *testing.T) {
			e := newSTEnv(t)
			stSetup(e, "created with id")
			require.NoError(t, stActions[action](e))
			k, err := e.posts.Create(stPost{ID: "9", Body: "fresh"})
			require.NoError(t, err)
			p, ok := e.posts.Peek(k.ID)
			require.True(t, ok)
			assert.Equal(t, stPost{ID: "9", Body: "fresh"}, p, "nothing of the first record is left")
			assert.Equal(t, map[string]recstore.Change{"body": {Old: nil, New: "fresh"}}, e.posts.ChangedAttributes("9"))
			assert.Equal(t, 1, e.posts.Len())
		})
	}
}

// Setting the invalid attribute clears its errors only: those of other
// members, and the record's own (base), stay until the next save.
func TestLifecycle_invalidOtherKeysStay(t *testing.T) {
	e := newSTEnv(t)
	stSetup(e, "edited")
	e.m.FailNext("UpdateRecord", recstoretest.Invalid(
		"/data/attributes/title", "can't be blank",
		"/data/attributes/body", "is too short",
		"/data", "is a duplicate"))
	require.ErrorIs(t, e.save(), recstore.ErrInvalid)
	st := e.s.State(e.key)
	require.Len(t, st.Errors, 3, "%v", st.Errors)
	assert.Equal(t, "root.loaded.updated.invalid", st.Name())

	require.NoError(t, e.edit("Fixed"))
	st = e.s.State(e.key)
	assert.NotContains(t, st.Errors, "title")
	assert.Contains(t, st.Errors, "body")
	assert.Len(t, st.Errors, 2, "the base error stays: %v", st.Errors)
	assert.False(t, st.IsValid())

	require.NoError(t, e.s.SetAttr(e.key, "body", "longer"))
	st = e.s.State(e.key)
	assert.Len(t, st.Errors, 1, "only the base error: %v", st.Errors)
	assert.Equal(t, "root.loaded.updated.invalid", st.Name())

	require.NoError(t, e.save())
	st = e.s.State(e.key)
	assert.True(t, st.IsValid())
	assert.Equal(t, "root.loaded.saved", st.Name())
}

// Errors of the lifecycle calls for records the Store does not hold, and
// for unknown names.
func TestLifecycle_notLoaded(t *testing.T) {
	e := newSTEnv(t)
	k := recstore.Key{Type: "stpost", ID: "nope"}
	for name, call := range map[string]func() error{
		"Edit":     func() error { _, err := e.posts.Edit("nope", func(*stPost) {}); return err },
		"SetAttr":  func() error { return e.s.SetAttr(k, "title", "x") },
		"Delete":   func() error { return e.s.Delete(k) },
		"Rollback": func() error { return e.s.Rollback(k) },
		"Save":     func() error { _, err := e.s.Save(context.Background(), k); return err },
		"Unload":   func() error { return e.s.Unload(k) },
	} {
		assert.ErrorIs(t, call(), recstore.ErrNotLoaded, name)
	}
	assert.Equal(t, recstore.State{}, e.s.State(k))
	assert.Equal(t, "root.empty", e.s.State(k).Name())
	assert.Empty(t, e.s.ChangedAttributes(k))
	assert.Empty(t, e.s.ChangedRelationships(k))

	stSetup(e, "clean")
	assert.ErrorIs(t, e.s.SetAttr(e.key, "nope", "x"), recstore.ErrUnknownAttribute)
	var ae *recstore.AttributeError
	assert.ErrorAs(t, e.s.SetAttr(e.key, "title", 42), &ae, "a value of another kind")
	assert.ErrorIs(t, e.s.SetAttr(recstore.Key{Type: "nope", ID: "1"}, "title", "x"), recstore.ErrUnknownType)
	assert.Equal(t, recstore.StatusLoaded, e.s.State(e.key).Status, "the failed calls changed nothing")
}

// stIs reports whether err is one of targets (for the race tests, which
// accept several outcomes).
func stIs(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

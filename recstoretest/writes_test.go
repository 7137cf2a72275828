package recstoretest_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// patch is a PATCH body that sets album 1's title.
var patch = []byte(`{"data": {"type": "albums", "id": "1", "attributes": {"title": "Patched"}}}`)

// FailNext fails the next calls of one method, one queued error each, in
// order, before Fail is asked; a nil error lets its call through.
func TestMemoryAdapter_FailNext(t *testing.T) {
	errA, errB, errFail := errors.New("a"), errors.New("b"), errors.New("from Fail")
	tests := []struct {
		name   string
		queue  []error
		fail   bool    // set Fail to return errFail
		want   []error // the errors of successive UpdateRecord calls
		reason string
	}{
		{name: "once, then success", queue: []error{errA}, want: []error{errA, nil, nil}},
		{name: "in order", queue: []error{errA, errB}, want: []error{errA, errB, nil}},
		{name: "nil lets a call through", queue: []error{nil, errA}, want: []error{nil, errA, nil}},
		{name: "before Fail", queue: []error{errA}, fail: true, want: []error{errA, errFail, errFail},
			reason: "a queued error is the call's; later calls ask Fail"},
		{name: "nil asks Fail", queue: []error{nil}, fail: true, want: []error{errFail, errFail}},
		{name: "nothing queued", want: []error{nil, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := recstoretest.NewMemoryAdapter(fixtures)
			if tt.fail {
				m.Fail = func(op string, req *recstore.Request) error { return errFail }
			}
			m.FailNext("UpdateRecord", tt.queue...)
			for i, want := range tt.want {
				_, err := m.UpdateRecord(context.Background(), &recstore.Request{Type: "album", ID: "1", Body: patch})
				if want == nil {
					assert.NoError(t, err, "call %d, queue %v: %s", i, tt.queue, tt.reason)
				} else {
					assert.ErrorIs(t, err, want, "call %d, queue %v: %s", i, tt.queue, tt.reason)
				}
			}
			assert.Equal(t, len(tt.want), m.Calls("UpdateRecord"), "every call is counted")
		})
	}
}

// Queued errors belong to one method and add up; the zero MemoryAdapter
// takes them.
func TestMemoryAdapter_FailNext_perMethod(t *testing.T) {
	var m recstoretest.MemoryAdapter
	errA, errB := errors.New("a"), errors.New("b")
	m.FailNext("DeleteRecord", errA)
	m.FailNext("DeleteRecord", errB)
	ctx := context.Background()

	_, err := m.FindRecord(ctx, &recstore.Request{Type: "album", ID: "1"})
	assert.ErrorIs(t, err, recstore.ErrNotFound, "FindRecord has nothing queued")
	assert.ErrorIs(t, m.DeleteRecord(ctx, &recstore.Request{Type: "album", ID: "1"}), errA)
	assert.ErrorIs(t, m.DeleteRecord(ctx, &recstore.Request{Type: "album", ID: "1"}), errB)
	assert.ErrorIs(t, m.DeleteRecord(ctx, &recstore.Request{Type: "album", ID: "1"}), recstore.ErrNotFound, "the queue is used up")
}

// A BackendError queued with FailNext reaches an HTTPAdapter through
// NewServer with its status: a retry test's 503, then success.
func TestMemoryAdapter_FailNext_throughServer(t *testing.T) {
	m := recstoretest.NewMemoryAdapter(fixtures)
	srv := recstoretest.NewServer(m)
	defer srv.Close()
	h := &recstore.HTTPAdapter{Host: srv.URL}
	m.FailNext("UpdateRecord", &recstore.BackendError{Status: 503})

	req := &recstore.Request{Type: "album", ID: "1", Body: patch}
	_, err := h.UpdateRecord(context.Background(), req)
	require.ErrorIs(t, err, recstore.ErrServer)
	var be *recstore.BackendError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, 503, be.Status)
	assert.Equal(t, "Fewer Moving Parts", storedAttr(t, m, "/albums/1", "title"), "a refused save stores nothing")

	out, err := h.UpdateRecord(context.Background(), req)
	require.NoError(t, err, "the retry succeeds")
	assert.Contains(t, string(out), `"Patched"`)
}

// N goroutines share a queue of N errors: exactly N calls fail.
func TestMemoryAdapter_FailNext_concurrent(t *testing.T) {
	const n = 20
	m := recstoretest.NewMemoryAdapter(fixtures)
	boom := errors.New("boom")
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { m.FailNext("FindRecord", boom) })
	}
	wg.Wait()
	var mu sync.Mutex
	failed := 0
	for range 2 * n {
		wg.Go(func() {
			_, err := m.FindRecord(context.Background(), &recstore.Request{Type: "album", ID: "1"})
			if errors.Is(err, boom) {
				mu.Lock()
				failed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, n, failed)
}

// storedAttr returns attribute name of the record typ/id as m holds it,
// read without FindRecord (whose calls a test may count or fail): through
// m's FindLink of the record's URL, or nil if m lacks the record.
func storedAttr(t *testing.T, m *recstoretest.MemoryAdapter, path, name string) any {
	t.Helper()
	var doc struct {
		Data struct {
			Attributes map[string]any `json:"attributes"`
		} `json:"data"`
	}
	out, err := m.FindLink(context.Background(), &recstore.Request{Link: path})
	if errors.Is(err, recstore.ErrNotFound) {
		return nil
	}
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(out, &doc), "%s", out)
	return doc.Data.Attributes[name]
}

func TestInvalid(t *testing.T) {
	obj := func(title, ptr, detail string) recstore.ErrorObject {
		return recstore.ErrorObject{Status: "422", Title: title, Detail: detail, Source: &recstore.ErrorSource{Pointer: ptr}}
	}
	tests := []struct {
		name    string
		args    []string
		want    []recstore.ErrorObject
		extract map[string][]string // what Store.ExtractErrors makes of them
	}{
		{name: "one attribute", args: []string{"/data/attributes/title", "can't be blank"},
			want:    []recstore.ErrorObject{obj("Invalid Attribute", "/data/attributes/title", "can't be blank")},
			extract: map[string][]string{"title": {"can't be blank"}}},
		{name: "an attribute and the record",
			args: []string{"/data/attributes/song-count", "must be positive", "/data", "record is wrong"},
			want: []recstore.ErrorObject{
				obj("Invalid Attribute", "/data/attributes/song-count", "must be positive"),
				obj("Invalid Document", "/data", "record is wrong")},
			extract: map[string][]string{"songCount": {"must be positive"}, recstore.BaseErrors: {"record is wrong"}}},
		{name: "a relationship", args: []string{"/data/relationships/label", "is gone"},
			want:    []recstore.ErrorObject{obj("Invalid Relationship", "/data/relationships/label", "is gone")},
			extract: map[string][]string{"label": {"is gone"}}},
		{name: "a pointer without detail", args: []string{"/data/attributes/title"},
			want:    []recstore.ErrorObject{obj("Invalid Attribute", "/data/attributes/title", "is invalid")},
			extract: map[string][]string{"title": {"is invalid"}}},
		{name: "nothing: the whole record", args: nil,
			want:    []recstore.ErrorObject{obj("Invalid Document", "/data", "is invalid")},
			extract: map[string][]string{recstore.BaseErrors: {"is invalid"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error = recstoretest.Invalid(tt.args...)
			require.ErrorIs(t, err, recstore.ErrInvalid)
			assert.NotErrorIs(t, err, recstore.ErrConflict)
			var be *recstore.BackendError
			require.ErrorAs(t, err, &be)
			assert.Equal(t, 422, be.Status)
			assert.Equal(t, tt.want, be.Errors, "Invalid(%q)", tt.args)
			s, _ := newStore(t, nil)
			assert.Equal(t, tt.extract, s.ExtractErrors("album", be.Errors), "Invalid(%q)", tt.args)
		})
	}
}

func TestConflict(t *testing.T) {
	var err error = recstoretest.Conflict("version 3 is stale")
	require.ErrorIs(t, err, recstore.ErrConflict)
	assert.NotErrorIs(t, err, recstore.ErrInvalid)
	var be *recstore.BackendError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, 409, be.Status)
	assert.Equal(t, []recstore.ErrorObject{{Status: "409", Title: "Conflict", Detail: "version 3 is stale"}}, be.Errors)
	assert.Equal(t, "recstore: backend returned 409: version 3 is stale", err.Error())
}

package recstoretest_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
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

// writer is what the write tests call: a MemoryAdapter, or an
// HTTPAdapter talking to NewServer.
type writer interface {
	recstore.Adapter
	recstore.Creator
	recstore.Updater
	recstore.Deleter
}

// eachWriter runs f as two subtests on a new MemoryAdapter loaded with
// fixtures that setup (if not nil) has configured: called directly
// ("memory"), and through NewServer by an HTTPAdapter ("http").
func eachWriter(t *testing.T, setup func(m *recstoretest.MemoryAdapter), f func(t *testing.T, m *recstoretest.MemoryAdapter, w writer)) {
	t.Helper()
	for _, name := range []string{"memory", "http"} {
		t.Run(name, func(t *testing.T) {
			m := recstoretest.NewMemoryAdapter(fixtures)
			if setup != nil {
				setup(m)
			}
			var w writer = m
			if name == "http" {
				srv := recstoretest.NewServer(m)
				t.Cleanup(srv.Close)
				w = &recstore.HTTPAdapter{Host: srv.URL}
			}
			f(t, m, w)
		})
	}
}

// data decodes the primary data of a write's answer.
func data(t *testing.T, out []byte) map[string]any {
	t.Helper()
	var doc struct {
		Data map[string]any `json:"data"`
	}
	require.NoError(t, json.Unmarshal(out, &doc), "answer %s", out)
	require.NotNil(t, doc.Data, "answer %s", out)
	return doc.Data
}

// requireRefusal checks that err is a refusal with status, matching
// sentinel, whose first error object points at pointer ("" for none).
func requireRefusal(t *testing.T, err error, sentinel error, status int, pointer string) {
	t.Helper()
	require.ErrorIs(t, err, sentinel)
	var be *recstore.BackendError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, status, be.Status, "%v", err)
	require.NotEmpty(t, be.Errors, "%v", err)
	if pointer == "" {
		assert.Nil(t, be.Errors[0].Source, "%v: no pointer", err)
		return
	}
	require.NotNil(t, be.Errors[0].Source, "%v: want pointer %s", err, pointer)
	assert.Equal(t, pointer, be.Errors[0].Source.Pointer, "%v", err)
}

func TestMemoryAdapter_CreateRecord(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		wantID  string // the new record's id
		wantLID string // the lid answered
		wantErr error  // the refusal's sentinel
		status  int    // the refusal's status
		pointer string // the refusal's source pointer
	}{
		{name: "plural type", body: `{"data": {"type": "albums", "attributes": {"title": "New"}}}`, wantID: "8"},
		{name: "singular type", body: `{"data": {"type": "album", "attributes": {"title": "New"}}}`, wantID: "8"},
		{name: "no type", body: `{"data": {"attributes": {"title": "New"}}}`, wantID: "8"},
		{name: "no attributes", body: `{"data": {"type": "albums"}}`, wantID: "8"},
		{name: "client id", body: `{"data": {"type": "albums", "id": "c1", "attributes": {"title": "New"}}}`, wantID: "c1"},
		{name: "lid echoed", body: `{"data": {"type": "albums", "lid": "tmp-1", "attributes": {"title": "New"}}}`, wantID: "8", wantLID: "tmp-1"},

		{name: "id taken", body: `{"data": {"type": "albums", "id": "1", "attributes": {"title": "New"}}}`,
			wantErr: recstore.ErrConflict, status: 409, pointer: "/data/id"},
		{name: "id taken, as a number", body: `{"data": {"type": "albums", "id": 2}}`,
			wantErr: recstore.ErrConflict, status: 409, pointer: "/data/id"},
		{name: "another type", body: `{"data": {"type": "labels", "attributes": {"name": "New"}}}`,
			wantErr: recstore.ErrConflict, status: 409, pointer: "/data/type"},

		{name: "not JSON", body: `{"data": {`, wantErr: recstore.ErrInvalid, status: 400},
		{name: "empty", body: ``, wantErr: recstore.ErrInvalid, status: 400},
		{name: "data after the document", body: `{"data": {"type": "albums"}} {}`, wantErr: recstore.ErrInvalid, status: 400},
		{name: "not an object", body: `[{"type": "albums"}]`, wantErr: recstore.ErrInvalid, status: 400},
		{name: "no data", body: `{"meta": {}}`, wantErr: recstore.ErrInvalid, status: 400, pointer: "/data"},
		{name: "data null", body: `{"data": null}`, wantErr: recstore.ErrInvalid, status: 400, pointer: "/data"},
		{name: "data an array", body: `{"data": [{"type": "albums"}]}`, wantErr: recstore.ErrInvalid, status: 400, pointer: "/data"},
		{name: "type a number", body: `{"data": {"type": 1}}`, wantErr: recstore.ErrInvalid, status: 400, pointer: "/data/type"},
		{name: "id empty", body: `{"data": {"type": "albums", "id": ""}}`, wantErr: recstore.ErrInvalid, status: 400, pointer: "/data/id"},
		{name: "id an object", body: `{"data": {"type": "albums", "id": {}}}`, wantErr: recstore.ErrInvalid, status: 400, pointer: "/data/id"},
		{name: "lid true", body: `{"data": {"type": "albums", "lid": true}}`, wantErr: recstore.ErrInvalid, status: 400, pointer: "/data/lid"},
		{name: "attributes an array", body: `{"data": {"type": "albums", "attributes": []}}`,
			wantErr: recstore.ErrInvalid, status: 400, pointer: "/data/attributes"},
		{name: "relationships a string", body: `{"data": {"type": "albums", "relationships": "x"}}`,
			wantErr: recstore.ErrInvalid, status: 400, pointer: "/data/relationships"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eachWriter(t, nil, func(t *testing.T, m *recstoretest.MemoryAdapter, w writer) {
				out, err := w.CreateRecord(context.Background(), &recstore.Request{Type: "album", Body: []byte(tt.body)})
				if tt.wantErr != nil {
					requireRefusal(t, err, tt.wantErr, tt.status, tt.pointer)
					assert.False(t, m.Has("album", "8"), "a refused create stores nothing")
					assert.Equal(t, "Fewer Moving Parts", storedAttr(t, m, "/albums/1", "title"), "a refused create changes nothing")
					return
				}
				require.NoError(t, err, "body %s", tt.body)
				got := data(t, out)
				assert.Equal(t, tt.wantID, got["id"], "answer %s", out)
				assert.True(t, m.Has("albums", tt.wantID), "stored")
				if tt.wantLID != "" {
					assert.Equal(t, tt.wantLID, got["lid"], "answer %s", out)
				} else {
					assert.NotContains(t, got, "lid")
				}
				stored, err := m.FindLink(context.Background(), &recstore.Request{Link: "/albums/" + tt.wantID})
				require.NoError(t, err)
				assert.NotContains(t, data(t, stored), "lid", "the lid is not stored")
			})
		})
	}
}

func TestMemoryAdapter_UpdateRecord(t *testing.T) {
	tests := []struct {
		name      string
		id        string
		body      string
		wantTitle string // album 1's title afterwards
		wantCount any    // album 1's song-count afterwards
		wantErr   error
		status    int
		pointer   string
	}{
		{name: "an attribute", id: "1", body: `{"data": {"type": "albums", "id": "1", "attributes": {"title": "Patched"}}}`,
			wantTitle: "Patched", wantCount: 10.0},
		{name: "singular type, no id", id: "1", body: `{"data": {"type": "album", "attributes": {"song-count": 11}}}`,
			wantTitle: "Fewer Moving Parts", wantCount: 11.0},
		{name: "no type or id", id: "1", body: `{"data": {"attributes": {"title": "Patched", "song-count": null}}}`,
			wantTitle: "Patched", wantCount: nil},
		{name: "nothing to change", id: "1", body: `{"data": {"type": "albums", "id": "1"}}`,
			wantTitle: "Fewer Moving Parts", wantCount: 10.0},

		{name: "missing record, whatever the body", id: "404", body: `not JSON`,
			wantErr: recstore.ErrNotFound, status: 404},
		{name: "another id", id: "1", body: `{"data": {"type": "albums", "id": "2", "attributes": {"title": "Patched"}}}`,
			wantErr: recstore.ErrConflict, status: 409, pointer: "/data/id"},
		{name: "another type", id: "1", body: `{"data": {"type": "labels", "id": "1", "attributes": {"title": "Patched"}}}`,
			wantErr: recstore.ErrConflict, status: 409, pointer: "/data/type"},
		{name: "not JSON", id: "1", body: `{"data"`, wantErr: recstore.ErrInvalid, status: 400},
		{name: "no data", id: "1", body: `{}`, wantErr: recstore.ErrInvalid, status: 400, pointer: "/data"},
		{name: "attributes a string", id: "1", body: `{"data": {"attributes": "title"}}`,
			wantErr: recstore.ErrInvalid, status: 400, pointer: "/data/attributes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eachWriter(t, nil, func(t *testing.T, m *recstoretest.MemoryAdapter, w writer) {
				out, err := w.UpdateRecord(context.Background(), &recstore.Request{Type: "album", ID: tt.id, Body: []byte(tt.body)})
				if tt.wantErr != nil {
					requireRefusal(t, err, tt.wantErr, tt.status, tt.pointer)
					assert.Equal(t, "Fewer Moving Parts", storedAttr(t, m, "/albums/1", "title"), "a refused update changes nothing")
					return
				}
				require.NoError(t, err, "body %s", tt.body)
				got := data(t, out)
				assert.Equal(t, tt.wantTitle, got["attributes"].(map[string]any)["title"], "answer %s", out)
				assert.Equal(t, tt.wantTitle, storedAttr(t, m, "/albums/1", "title"))
				assert.Equal(t, tt.wantCount, storedAttr(t, m, "/albums/1", "song-count"))
				assert.NotNil(t, got["relationships"], "relationships kept: %s", out)
			})
		})
	}
}

// A relationship in the body replaces the one of that name, and leaves
// the others.
func TestMemoryAdapter_UpdateRecord_relationships(t *testing.T) {
	eachWriter(t, nil, func(t *testing.T, m *recstoretest.MemoryAdapter, w writer) {
		body := `{"data": {"type": "albums", "id": "1", "relationships": {"label": {"data": null}, "producer": {"data": {"type": "people", "id": "3"}}}}}`
		out, err := w.UpdateRecord(context.Background(), &recstore.Request{Type: "album", ID: "1", Body: []byte(body)})
		require.NoError(t, err)
		rels := data(t, out)["relationships"].(map[string]any)
		assert.Equal(t, map[string]any{"data": nil}, rels["label"])
		assert.Equal(t, map[string]any{"data": map[string]any{"type": "people", "id": "3"}}, rels["producer"])
		assert.Equal(t, "Fewer Moving Parts", data(t, out)["attributes"].(map[string]any)["title"])
	})
}

func TestMemoryAdapter_DeleteRecord(t *testing.T) {
	eachWriter(t, nil, func(t *testing.T, m *recstoretest.MemoryAdapter, w writer) {
		req := &recstore.Request{Type: "album", ID: "2"}
		require.NoError(t, w.DeleteRecord(context.Background(), req))
		assert.False(t, m.Has("album", "2"))
		assert.True(t, m.Has("album", "1"), "only the one asked for")
		requireRefusal(t, w.DeleteRecord(context.Background(), req), recstore.ErrNotFound, 404, "")
		_, err := w.FindRecord(context.Background(), req)
		assert.ErrorIs(t, err, recstore.ErrNotFound)
	})
}

// OnSave validates: an error it returns is the save's, with its status
// and pointers, and nothing is stored.
func TestMemoryAdapter_OnSave_refuses(t *testing.T) {
	blank := func(op string, req *recstore.Request, res map[string]any) error {
		if res["attributes"].(map[string]any)["title"] == "" {
			return recstoretest.Invalid("/data/attributes/title", "can't be blank")
		}
		if res["attributes"].(map[string]any)["title"] == "stale" {
			return recstoretest.Conflict("the record changed meanwhile")
		}
		return nil
	}
	tests := []struct {
		name    string
		id      string // "" to create
		title   string
		wantErr error
		status  int
		pointer string
	}{
		{name: "create blank", title: "", wantErr: recstore.ErrInvalid, status: 422, pointer: "/data/attributes/title"},
		{name: "update blank", id: "1", title: "", wantErr: recstore.ErrInvalid, status: 422, pointer: "/data/attributes/title"},
		{name: "create conflict", title: "stale", wantErr: recstore.ErrConflict, status: 409},
		{name: "update conflict", id: "1", title: "stale", wantErr: recstore.ErrConflict, status: 409},
		{name: "create valid", title: "Fine"},
		{name: "update valid", id: "1", title: "Fine"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eachWriter(t, func(m *recstoretest.MemoryAdapter) { m.OnSave = blank }, func(t *testing.T, m *recstoretest.MemoryAdapter, w writer) {
				body := []byte(`{"data": {"type": "albums", "attributes": {"title": "` + tt.title + `"}}}`)
				req := &recstore.Request{Type: "album", ID: tt.id, Body: body}
				var err error
				if tt.id == "" {
					_, err = w.CreateRecord(context.Background(), req)
				} else {
					_, err = w.UpdateRecord(context.Background(), req)
				}
				if tt.wantErr == nil {
					require.NoError(t, err)
					path := "/albums/" + map[bool]string{true: "8", false: "1"}[tt.id == ""]
					assert.Equal(t, tt.title, storedAttr(t, m, path, "title"), "saved")
					return
				}
				requireRefusal(t, err, tt.wantErr, tt.status, tt.pointer)
				assert.False(t, m.Has("album", "8"), "a refused create stores nothing")
				assert.Equal(t, "Fewer Moving Parts", storedAttr(t, m, "/albums/1", "title"), "a refused update changes nothing")
			})
		})
	}
}

// OnSave acts out the server's changes: what it sets is stored and
// answered. It sees a create's data without lid or id, an update's whole
// merged record, numbers as json.Number, and may call m's methods.
func TestMemoryAdapter_OnSave_changes(t *testing.T) {
	type seen struct {
		op  string
		res map[string]any
	}
	var mu sync.Mutex
	var saw []seen
	setup := func(m *recstoretest.MemoryAdapter) {
		m.OnSave = func(op string, req *recstore.Request, res map[string]any) error {
			mu.Lock()
			defer mu.Unlock()
			b, _ := json.Marshal(res)
			var copied map[string]any
			_ = json.Unmarshal(b, &copied)
			saw = append(saw, seen{op, copied})
			attrs := res["attributes"].(map[string]any)
			attrs["title"] = strings.TrimSpace(attrs["title"].(string))
			attrs["updated-at"] = "2026-12-02T00:00:00Z"
			_, isNumber := attrs["song-count"].(json.Number)
			attrs["numbers-are-json-number"] = isNumber
			attrs["had-album-1"] = m.Has("album", "1") // no deadlock: m's lock is not held
			return nil
		}
	}
	eachWriter(t, setup, func(t *testing.T, m *recstoretest.MemoryAdapter, w writer) {
		mu.Lock()
		saw = nil
		mu.Unlock()
		out, err := w.CreateRecord(context.Background(), &recstore.Request{Type: "album",
			Body: []byte(`{"data": {"type": "albums", "lid": "l1", "attributes": {"title": "  New  ", "song-count": 12345678901234567890}}}`)})
		require.NoError(t, err)
		got := data(t, out)
		attrs := got["attributes"].(map[string]any)
		assert.Equal(t, "New", attrs["title"], "answered as changed")
		assert.Equal(t, "2026-12-02T00:00:00Z", attrs["updated-at"])
		assert.Equal(t, true, attrs["numbers-are-json-number"])
		assert.Equal(t, true, attrs["had-album-1"])
		assert.Equal(t, "l1", got["lid"])
		assert.Equal(t, "New", storedAttr(t, m, "/albums/8", "title"), "stored as changed")
		stored, err := m.FindLink(context.Background(), &recstore.Request{Link: "/albums/8"})
		require.NoError(t, err)
		assert.Contains(t, string(stored), "12345678901234567890", "a large number keeps its digits")

		out, err = w.UpdateRecord(context.Background(), &recstore.Request{Type: "album", ID: "1",
			Body: []byte(`{"data": {"type": "albums", "id": "1", "attributes": {"title": " Patched "}}}`)})
		require.NoError(t, err)
		assert.Equal(t, "Patched", data(t, out)["attributes"].(map[string]any)["title"])
		assert.Equal(t, "2026-12-02T00:00:00Z", storedAttr(t, m, "/albums/1", "updated-at"))

		mu.Lock()
		defer mu.Unlock()
		require.Len(t, saw, 2)
		assert.Equal(t, "CreateRecord", saw[0].op)
		assert.NotContains(t, saw[0].res, "lid", "OnSave sees no lid")
		assert.NotContains(t, saw[0].res, "id", "nor an id the server will give")
		assert.Equal(t, "UpdateRecord", saw[1].op)
		assert.Equal(t, "1", saw[1].res["id"])
		assert.Equal(t, 10.0, saw[1].res["attributes"].(map[string]any)["song-count"], "the whole merged record")
		assert.NotNil(t, saw[1].res["relationships"], "the whole merged record")
	})
}

// NoContent answers nothing for a save the server did not change beyond
// the request (an update, or a create with the client's id), and the
// record otherwise.
func TestMemoryAdapter_NoContent(t *testing.T) {
	stamp := func(op string, req *recstore.Request, res map[string]any) error {
		res["attributes"].(map[string]any)["updated-at"] = "now"
		return nil
	}
	tests := []struct {
		name        string
		id          string // "" to create
		body        string
		onSave      func(op string, req *recstore.Request, res map[string]any) error
		wantContent bool
		reason      string
	}{
		{name: "update", id: "1", body: `{"data": {"type": "albums", "id": "1", "attributes": {"title": "Patched"}}}`},
		{name: "update the server changed", id: "1", body: `{"data": {"type": "albums", "id": "1", "attributes": {"title": "Patched"}}}`,
			onSave: stamp, wantContent: true, reason: "JSON:API: a server that changed more must answer 200 with the record"},
		{name: "update OnSave left alone", id: "1", body: `{"data": {"type": "albums", "id": "1", "attributes": {"title": "Patched"}}}`,
			onSave: func(string, *recstore.Request, map[string]any) error { return nil }},
		{name: "create with the client's id", body: `{"data": {"type": "albums", "id": "c1", "attributes": {"title": "Patched"}}}`},
		{name: "create with the server's id", body: `{"data": {"type": "albums", "attributes": {"title": "Patched"}}}`,
			wantContent: true, reason: "the client must learn the id"},
		{name: "create the server changed", body: `{"data": {"type": "albums", "id": "c1", "attributes": {"title": "Patched"}}}`,
			onSave: stamp, wantContent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setup := func(m *recstoretest.MemoryAdapter) { m.NoContent, m.OnSave = true, tt.onSave }
			eachWriter(t, setup, func(t *testing.T, m *recstoretest.MemoryAdapter, w writer) {
				req := &recstore.Request{Type: "album", ID: tt.id, Body: []byte(tt.body)}
				var out []byte
				var err error
				if tt.id == "" {
					out, err = w.CreateRecord(context.Background(), req)
				} else {
					out, err = w.UpdateRecord(context.Background(), req)
				}
				require.NoError(t, err)
				if tt.wantContent {
					assert.Equal(t, "Patched", data(t, out)["attributes"].(map[string]any)["title"], tt.reason)
				} else {
					// MemoryAdapter answers nil; HTTPAdapter an empty body.
					assert.Empty(t, out, "no content: %s", tt.reason)
				}
				path := "/albums/1"
				if tt.id == "" {
					path = "/albums/" + map[bool]string{true: "c1", false: "8"}[m.Has("album", "c1")]
				}
				assert.Equal(t, "Patched", storedAttr(t, m, path, "title"), "saved either way")
			})
		})
	}
}

// Concurrent creates get distinct ids; of concurrent creates of one
// client id, one wins and the others are refused with a 409.
func TestMemoryAdapter_CreateRecord_concurrent(t *testing.T) {
	const n = 16
	m := recstoretest.NewMemoryAdapter(fixtures)
	m.OnSave = func(string, *recstore.Request, map[string]any) error { return nil }
	var wg sync.WaitGroup
	var mu sync.Mutex
	ids := map[string]bool{}
	conflicts := 0
	for range n {
		wg.Go(func() {
			out, err := m.CreateRecord(context.Background(), &recstore.Request{Type: "album", Body: []byte(`{"data": {"type": "albums"}}`)})
			if !assert.NoError(t, err) {
				return
			}
			var doc struct{ Data struct{ ID string } }
			_ = json.Unmarshal(out, &doc)
			mu.Lock()
			ids[doc.Data.ID] = true
			mu.Unlock()
		})
		wg.Go(func() {
			_, err := m.CreateRecord(context.Background(), &recstore.Request{Type: "album", Body: []byte(`{"data": {"type": "albums", "id": "same"}}`)})
			if errors.Is(err, recstore.ErrConflict) {
				mu.Lock()
				conflicts++
				mu.Unlock()
			} else {
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	assert.Len(t, ids, n, "distinct ids")
	assert.Equal(t, n-1, conflicts, "one create of id \"same\" wins")
}

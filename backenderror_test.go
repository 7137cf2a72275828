package recstore_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// statusSentinels are the sentinels an error status may match.
var statusSentinels = []error{recstore.ErrInvalid, recstore.ErrUnauthorized, recstore.ErrForbidden,
	recstore.ErrNotFound, recstore.ErrConflict, recstore.ErrServer}

// A BackendError matches the sentinel for its status, exactly as an
// HTTPError of that status does, and no other.
func TestBackendError_Is(t *testing.T) {
	tests := []struct {
		status int
		want   error // nil: none
	}{
		{0, nil}, {200, nil}, {302, nil},
		{400, recstore.ErrInvalid}, {401, recstore.ErrUnauthorized}, {403, recstore.ErrForbidden},
		{404, recstore.ErrNotFound}, {405, nil}, {409, recstore.ErrConflict}, {418, nil},
		{422, recstore.ErrInvalid}, {500, recstore.ErrServer}, {503, recstore.ErrServer}, {599, recstore.ErrServer},
	}
	for _, tt := range tests {
		be := &recstore.BackendError{Status: tt.status}
		he := &recstore.HTTPError{Method: "GET", URL: "/x", Status: tt.status}
		for _, s := range statusSentinels {
			assert.Equal(t, s == tt.want, errors.Is(be, s), "BackendError %d is %v", tt.status, s)
			assert.Equal(t, s == tt.want, errors.Is(he, s), "HTTPError %d is %v", tt.status, s)
		}
		assert.False(t, errors.Is(be, recstore.ErrNoMatch), "status %d is no ErrNoMatch", tt.status)
	}

	// Err's family is matched too, through Unwrap.
	cause := errors.New("connection reset")
	be := &recstore.BackendError{Status: 503, Err: cause}
	assert.ErrorIs(t, be, cause)
	assert.ErrorIs(t, be, recstore.ErrServer)
	assert.ErrorIs(t, &recstore.BackendError{Err: recstore.ErrTimeout}, recstore.ErrTimeout)
}

func TestBackendError_Error(t *testing.T) {
	tests := []struct {
		name string
		err  *recstore.BackendError
		want string
	}{
		{"detail", &recstore.BackendError{Status: 422, Errors: []recstore.ErrorObject{{Title: "Invalid", Detail: "title is too short"}}},
			"recstore: backend returned 422: title is too short"},
		{"title", &recstore.BackendError{Status: 404, Errors: []recstore.ErrorObject{{Title: "Not Found"}}}, "recstore: backend returned 404: Not Found"},
		{"cause", &recstore.BackendError{Status: 500, Err: errors.New("disk full")}, "recstore: backend returned 500: disk full"},
		{"no status", &recstore.BackendError{Err: recstore.ErrTimeout}, "recstore: backend refused the request: request timed out"},
		{"nothing", &recstore.BackendError{Status: 409}, "recstore: backend returned 409"},
		{"a backend's control characters", &recstore.BackendError{Status: 400, Errors: []recstore.ErrorObject{{Detail: "a\nb"}}},
			"recstore: backend returned 400: a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, tt.err.Error()) })
	}
}

// An HTTPError with a status reads as a BackendError, so code written for
// one kind of adapter reads another's refusals.
func TestHTTPError_AsBackendError(t *testing.T) {
	objs := []recstore.ErrorObject{{Status: "422", Title: "Invalid", Source: &recstore.ErrorSource{Pointer: "/data/attributes/title"}}}
	he := &recstore.HTTPError{Method: "PATCH", URL: "/albums/1", Status: 422, Errors: objs}
	var err error = &recstore.AdapterError{Op: "UpdateRecord", Type: "album", ID: "1", Err: he}

	var be *recstore.BackendError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, 422, be.Status)
	assert.Equal(t, objs, be.Errors)
	var got *recstore.HTTPError
	require.ErrorAs(t, err, &got, "still an HTTPError")
	assert.Same(t, he, got)

	assert.False(t, errors.As(&recstore.HTTPError{Method: "GET", URL: "/x", Err: recstore.ErrTimeout}, &be),
		"an HTTPError with no response is no backend's refusal")
}

// A missing record is a BackendError 404 from MemoryAdapter, and an
// HTTPError 404 through the test server: errors.Is and errors.As read both
// alike. A BackendError an adapter returns reaches the caller through the
// server with its status and error objects.
func TestBackendError_sameForMemoryAndHTTP(t *testing.T) {
	fixtures := `{"data": [{"type": "albums", "id": "1", "attributes": {"title": "A"}}]}`
	invalid := &recstore.BackendError{Status: 422, Errors: []recstore.ErrorObject{{
		Status: "422", Title: "Invalid Attribute", Detail: "is too short", Source: &recstore.ErrorSource{Pointer: "/data/attributes/title"}}}}
	newBackend := func() *recstoretest.MemoryAdapter {
		m := recstoretest.NewMemoryAdapter(fixtures)
		m.Fail = func(op string, req *recstore.Request) error {
			if req.ID == "bad" {
				return invalid
			}
			return nil
		}
		return m
	}
	adapters := []struct {
		name string
		make func(t *testing.T) recstore.Adapter
		http bool
	}{
		{"memory", func(t *testing.T) recstore.Adapter { return newBackend() }, false},
		{"http", func(t *testing.T) recstore.Adapter {
			srv := recstoretest.NewServer(newBackend())
			t.Cleanup(srv.Close)
			return &recstore.HTTPAdapter{Host: srv.URL}
		}, true},
	}
	tests := []struct {
		id      string
		status  int
		is      error
		title   string
		extract map[string][]string
	}{
		{id: "2", status: 404, is: recstore.ErrNotFound, title: "Not Found", extract: map[string][]string{}},
		{id: "bad", status: 422, is: recstore.ErrInvalid, title: "Invalid Attribute", extract: map[string][]string{"title": {"is too short"}}},
	}
	for _, ad := range adapters {
		for _, tt := range tests {
			t.Run(ad.name+" "+tt.id, func(t *testing.T) {
				s := recstore.New(&recstore.Options{Adapter: ad.make(t)})
				t.Cleanup(func() { s.Close() })
				albums := recstore.MustRegister[Album](s, nil)
				_, err := albums.Find(context.Background(), tt.id, noBackground)
				require.ErrorIs(t, err, tt.is)
				assert.False(t, errors.Is(err, recstore.ErrNoMatch), "a refusal is no empty query answer")
				var be *recstore.BackendError
				require.ErrorAs(t, err, &be)
				assert.Equal(t, tt.status, be.Status)
				require.NotEmpty(t, be.Errors)
				assert.Equal(t, tt.title, be.Errors[0].Title)
				assert.Equal(t, tt.extract, s.ExtractErrors("album", be.Errors))
				var he *recstore.HTTPError
				assert.Equal(t, ad.http, errors.As(err, &he), "an HTTPError only from HTTP")
			})
		}
	}
}

// QueryRecord's data: null is ErrNoMatch, which is also ErrNotFound; the
// adapter's own 404 is ErrNotFound only.
func TestModel_QueryRecord_noMatch(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		err     error // the adapter's error
		noMatch bool
	}{
		{name: "data null", payload: `{"data": null}`, noMatch: true},
		{name: "a 404 from the adapter", err: &recstore.BackendError{Status: 404}},
		{name: "an error wrapping ErrNotFound", err: recstore.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ad := &queryOnly{payload: tt.payload}
			ad.AdapterFunc = func(context.Context, *recstore.Request) ([]byte, error) { return nil, nil }
			var a recstore.Adapter = ad
			if tt.err != nil {
				a = &failingQuery{err: tt.err}
			}
			s, albums := findStore(t, a, nil)
			before := recstore.Dump(s)
			_, err := albums.QueryRecord(context.Background(), url.Values{"q": {"x"}})
			require.ErrorIs(t, err, recstore.ErrNotFound)
			assert.Equal(t, tt.noMatch, errors.Is(err, recstore.ErrNoMatch), "ErrNoMatch: %v", err)
			var ae *recstore.AdapterError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, "QueryRecord", ae.Op)
			_, err = s.QueryRecord(context.Background(), "album", nil)
			assert.Equal(t, tt.noMatch, errors.Is(err, recstore.ErrNoMatch), "Store.QueryRecord: %v", err)
			requireUnchanged(t, s, before)
		})
	}
}

// ErrNoMatch says what it is, not "record not found", and still matches
// ErrNotFound one way: a 404 is no ErrNoMatch.
func TestErrNoMatch(t *testing.T) {
	wrapped := &recstore.AdapterError{Op: "QueryRecord", Type: "album", Err: recstore.ErrNoMatch}
	tests := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{name: "ErrNoMatch is ErrNoMatch", err: recstore.ErrNoMatch, target: recstore.ErrNoMatch, want: true},
		{name: "ErrNoMatch is ErrNotFound", err: recstore.ErrNoMatch, target: recstore.ErrNotFound, want: true},
		{name: "ErrNotFound is no ErrNoMatch", err: recstore.ErrNotFound, target: recstore.ErrNoMatch},
		{name: "a 404 is no ErrNoMatch", err: &recstore.BackendError{Status: 404}, target: recstore.ErrNoMatch},
		{name: "wrapped ErrNoMatch is ErrNoMatch", err: wrapped, target: recstore.ErrNoMatch, want: true},
		{name: "wrapped ErrNoMatch is ErrNotFound", err: fmt.Errorf("lookup: %w", wrapped), target: recstore.ErrNotFound, want: true},
		{name: "ErrNoMatch is no ErrBadResponse", err: recstore.ErrNoMatch, target: recstore.ErrBadResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, errors.Is(tt.err, tt.target), "errors.Is(%v, %v)", tt.err, tt.target)
		})
	}
	assert.Equal(t, "recstore: no record matches the query", recstore.ErrNoMatch.Error())
	assert.NotContains(t, wrapped.Error(), "not found", "ErrNoMatch reads as no 404")
}

// failingQuery fails every call with err.
type failingQuery struct{ err error }

func (f *failingQuery) FindRecord(context.Context, *recstore.Request) ([]byte, error) {
	return nil, f.err
}

func (f *failingQuery) QueryRecord(context.Context, *recstore.Request) ([]byte, error) {
	return nil, f.err
}

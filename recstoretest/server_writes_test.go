package recstoretest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The test server answers writes with JSON:API's statuses and headers,
// and refusals with their status and error objects.
func TestNewServer_writes(t *testing.T) {
	const jsonapi = "application/vnd.api+json"
	invalid := func(op string, req *recstore.Request, res map[string]any) error {
		if res["attributes"].(map[string]any)["title"] == "" {
			return recstoretest.Invalid("/data/attributes/title", "can't be blank")
		}
		return nil
	}
	tests := []struct {
		name        string
		noContent   bool
		method      string
		path        string
		contentType string
		body        string
		status      int
		location    string // the Location header's path, after the host
		wantBody    bool   // a JSON:API document with data
		pointer     string // the first error object's source pointer
		header      string // the first error object's source header
	}{
		{name: "POST", method: "POST", path: "/albums", contentType: jsonapi,
			body: `{"data": {"type": "albums", "attributes": {"title": "New"}}}`, status: 201, location: "/albums/8", wantBody: true},
		{name: "POST with ext", method: "POST", path: "/album", contentType: jsonapi + `; ext="https://jsonapi.org/ext/atomic"`,
			body: `{"data": {"type": "albums", "id": "a b", "attributes": {"title": "New"}}}`, status: 201, location: "/albums/a%20b", wantBody: true},
		{name: "POST NoContent, client id", noContent: true, method: "POST", path: "/albums", contentType: jsonapi,
			body: `{"data": {"type": "albums", "id": "c1", "attributes": {"title": "New"}}}`, status: 204},
		{name: "POST NoContent, server id", noContent: true, method: "POST", path: "/albums", contentType: jsonapi,
			body: `{"data": {"type": "albums", "attributes": {"title": "New"}}}`, status: 201, location: "/albums/8", wantBody: true},
		{name: "PATCH", method: "PATCH", path: "/albums/1", contentType: jsonapi,
			body: `{"data": {"type": "albums", "id": "1", "attributes": {"title": "x"}}}`, status: 200, wantBody: true},
		{name: "PATCH NoContent", noContent: true, method: "PATCH", path: "/albums/1", contentType: jsonapi,
			body: `{"data": {"type": "albums", "id": "1", "attributes": {"title": "x"}}}`, status: 204},
		{name: "DELETE", method: "DELETE", path: "/albums/1", status: 204},

		{name: "DELETE missing", method: "DELETE", path: "/albums/404", status: 404},
		{name: "PATCH missing", method: "PATCH", path: "/albums/404", contentType: jsonapi, body: `{"data": {}}`, status: 404},
		{name: "POST not JSON", method: "POST", path: "/albums", contentType: jsonapi, body: `{"data": `, status: 400},
		{name: "PATCH not JSON", method: "PATCH", path: "/albums/1", contentType: jsonapi, body: `nope`, status: 400},
		{name: "POST no data", method: "POST", path: "/albums", contentType: jsonapi, body: `{"data": 1}`, status: 400, pointer: "/data"},
		{name: "POST id taken", method: "POST", path: "/albums", contentType: jsonapi,
			body: `{"data": {"type": "albums", "id": "2"}}`, status: 409, pointer: "/data/id"},
		{name: "PATCH another id", method: "PATCH", path: "/albums/1", contentType: jsonapi,
			body: `{"data": {"type": "albums", "id": "2"}}`, status: 409, pointer: "/data/id"},
		{name: "POST invalid", method: "POST", path: "/albums", contentType: jsonapi,
			body: `{"data": {"type": "albums", "attributes": {"title": ""}}}`, status: 422, pointer: "/data/attributes/title"},
		{name: "PATCH invalid", method: "PATCH", path: "/albums/1", contentType: jsonapi,
			body: `{"data": {"type": "albums", "id": "1", "attributes": {"title": ""}}}`, status: 422, pointer: "/data/attributes/title"},
		{name: "POST as JSON", method: "POST", path: "/albums", contentType: "application/json",
			body: `{"data": {"type": "albums"}}`, status: 415, header: "Content-Type"},
		{name: "PATCH without a content type", method: "PATCH", path: "/albums/1",
			body: `{"data": {"type": "albums", "id": "1"}}`, status: 415, header: "Content-Type"},
		{name: "POST with a charset", method: "POST", path: "/albums", contentType: jsonapi + "; charset=utf-8",
			body: `{"data": {"type": "albums"}}`, status: 415, header: "Content-Type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := recstoretest.NewMemoryAdapter(fixtures)
			m.NoContent, m.OnSave = tt.noContent, invalid
			srv := recstoretest.NewServer(m)
			defer srv.Close()
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			require.NoError(t, err)
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, tt.status, resp.StatusCode, "%s %s: %s", tt.method, tt.path, body)

			switch {
			case tt.status == 204:
				assert.Empty(t, body, "204 has no body")
			case tt.status >= 400:
				assert.Equal(t, "application/vnd.api+json", resp.Header.Get("Content-Type"))
				var doc struct{ Errors []recstore.ErrorObject }
				require.NoError(t, json.Unmarshal(body, &doc), "%s", body)
				require.NotEmpty(t, doc.Errors, "an error object: %s", body)
				assert.NotEmpty(t, doc.Errors[0].Detail, "%s", body)
				var src recstore.ErrorSource
				if doc.Errors[0].Source != nil {
					src = *doc.Errors[0].Source
				}
				assert.Equal(t, tt.pointer, src.Pointer, "%s", body)
				assert.Equal(t, tt.header, src.Header, "%s", body)
			}
			if tt.wantBody {
				assert.Equal(t, "application/vnd.api+json", resp.Header.Get("Content-Type"))
				assert.NotNil(t, data(t, body)["id"])
			}
			if tt.location != "" {
				assert.Equal(t, srv.URL+tt.location, resp.Header.Get("Location"))
			} else {
				assert.Empty(t, resp.Header.Get("Location"))
			}
		})
	}
}

// A created record's Location is its URL: a GET of it finds the record.
func TestNewServer_location(t *testing.T) {
	m := recstoretest.NewMemoryAdapter(fixtures)
	srv := recstoretest.NewServer(m)
	defer srv.Close()
	req, err := http.NewRequest("POST", srv.URL+"/albums", strings.NewReader(`{"data": {"type": "albums", "attributes": {"title": "New"}}}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/vnd.api+json")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 201, resp.StatusCode)

	got, err := srv.Client().Get(resp.Header.Get("Location"))
	require.NoError(t, err)
	defer got.Body.Close()
	body, err := io.ReadAll(got.Body)
	require.NoError(t, err)
	require.Equal(t, 200, got.StatusCode, "GET %s: %s", resp.Header.Get("Location"), body)
	assert.Equal(t, "New", data(t, body)["attributes"].(map[string]any)["title"])
}

// recorder is an http.RoundTripper that notes each request's method and
// headers before sending it.
type recorder struct {
	mu   sync.Mutex
	sent map[string]http.Header // method → headers
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	if r.sent == nil {
		r.sent = map[string]http.Header{}
	}
	r.sent[req.Method] = req.Header.Clone()
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

// HTTPAdapter sends POST and PATCH bodies as application/vnd.api+json,
// which the test server requires, and DELETE without a body or a
// Content-Type.
func TestHTTPAdapter_writesContentType(t *testing.T) {
	m := recstoretest.NewMemoryAdapter(fixtures)
	srv := recstoretest.NewServer(m)
	defer srv.Close()
	rec := &recorder{}
	h := &recstore.HTTPAdapter{Host: srv.URL, Client: &http.Client{Transport: rec}}
	ctx := context.Background()

	_, err := h.CreateRecord(ctx, &recstore.Request{Type: "album", Body: []byte(`{"data": {"type": "albums"}}`)})
	require.NoError(t, err, "the server refuses a body of any other type with a 415")
	_, err = h.UpdateRecord(ctx, &recstore.Request{Type: "album", ID: "1", Body: []byte(`{"data": {"type": "albums", "id": "1"}}`)})
	require.NoError(t, err, "the server refuses a body of any other type with a 415")
	require.NoError(t, h.DeleteRecord(ctx, &recstore.Request{Type: "album", ID: "1"}))

	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, method := range []string{"POST", "PATCH"} {
		assert.Equal(t, "application/vnd.api+json", rec.sent[method].Get("Content-Type"), method)
		assert.Equal(t, "application/vnd.api+json", rec.sent[method].Get("Accept"), method)
	}
	assert.Empty(t, rec.sent["DELETE"].Get("Content-Type"), "DELETE sends no body")

	// A client that sends plain JSON is refused, with a status that
	// matches no sentinel.
	bad := &recstore.HTTPAdapter{Host: srv.URL, Header: http.Header{"Content-Type": {"application/json"}}}
	_, err = bad.CreateRecord(ctx, &recstore.Request{Type: "album", Body: []byte(`{"data": {"type": "albums"}}`)})
	var be *recstore.BackendError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, 415, be.Status)
	require.NotEmpty(t, be.Errors)
	require.NotNil(t, be.Errors[0].Source)
	assert.Equal(t, "Content-Type", be.Errors[0].Source.Header)
}

// What HTTPAdapter returns for each kind of answer to a write, as the
// Store's save code sees it: a document for 200 and 201, an empty
// non-nil body for 204, and an error for a refusal, whose BackendError
// carries the status and the error objects.
func TestHTTPAdapter_writeAnswers(t *testing.T) {
	m := recstoretest.NewMemoryAdapter(fixtures)
	srv := recstoretest.NewServer(m)
	defer srv.Close()
	h := &recstore.HTTPAdapter{Host: srv.URL}
	ctx := context.Background()

	out, err := h.CreateRecord(ctx, &recstore.Request{Type: "album", Body: []byte(`{"data": {"type": "albums", "lid": "l1"}}`)})
	require.NoError(t, err)
	assert.Equal(t, "l1", data(t, out)["lid"], "201's document, lid echoed")

	quiet := recstoretest.NewMemoryAdapter(fixtures)
	quiet.NoContent = true
	quietSrv := recstoretest.NewServer(quiet)
	defer quietSrv.Close()
	q := &recstore.HTTPAdapter{Host: quietSrv.URL}
	out, err = q.UpdateRecord(ctx, &recstore.Request{Type: "album", ID: "1", Body: []byte(`{"data": {"type": "albums", "id": "1"}}`)})
	require.NoError(t, err)
	assert.NotNil(t, out, "204: HTTPAdapter returns an empty, non-nil body")
	assert.Empty(t, out, "204: no body")
	out, err = q.CreateRecord(ctx, &recstore.Request{Type: "album", Body: []byte(`{"data": {"type": "albums", "id": "c1"}}`)})
	require.NoError(t, err)
	assert.Empty(t, out, "204 to a create with the client's id")

	m.FailNext("UpdateRecord", recstoretest.Invalid("/data/attributes/title", "can't be blank", "/data", "is wrong"))
	_, err = h.UpdateRecord(ctx, &recstore.Request{Type: "album", ID: "1", Body: []byte(`{"data": {"type": "albums", "id": "1"}}`)})
	require.ErrorIs(t, err, recstore.ErrInvalid)
	var he *recstore.HTTPError
	require.ErrorAs(t, err, &he, "through HTTP, an *HTTPError")
	assert.Equal(t, "PATCH", he.Method)
	var be *recstore.BackendError
	require.ErrorAs(t, err, &be, "which reads as a *BackendError")
	assert.Equal(t, 422, be.Status)
	assert.Equal(t, recstoretest.Invalid("/data/attributes/title", "can't be blank", "/data", "is wrong").Errors, be.Errors,
		"the error objects arrive as sent")
}

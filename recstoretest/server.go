package recstoretest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"

	"github.com/recstore/recstore"
)

// NewServer starts a JSON:API test server backed by m, for testing code
// that uses a recstore.HTTPAdapter against a real HTTP round trip:
//
//	GET /albums/1, GET /albums, GET /albums?filter[id]=1,2,
//	GET /albums?filter[title]=x, POST /albums, PATCH /albums/1, DELETE /albums/1
//	GET /albums?page[number]=2&page[size]=10, GET /albums?page[offset]=10&page[limit]=10
//	GET /albums/1/tracks, GET /albums/1/relationships/tracks
//
// Paths name types in plural or singular. Collections are paged on
// request, with pagination links, and with m.RelationshipLinks set
// resources carry relationship links (related and self); the server
// answers both, and links the fixtures wrote in those forms: see
// MemoryAdapter.FindAll and MemoryAdapter.FindLink. A
// *recstore.BackendError (a missing record's 404, or one that m's Fail
// returns) is sent with its status and error objects, a bad page
// parameter is a 400, and any other failure is a 500. The caller must
// Close the server.
func NewServer(m *MemoryAdapter) *httptest.Server {
	mux := http.NewServeMux()
	handle := func(pattern string, h func(ctx context.Context, r *http.Request, req *recstore.Request) ([]byte, int, error)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				writeError(w, http.StatusBadRequest, err)
				return
			}
			req := &recstore.Request{Type: pathType(r.PathValue("type")), ID: r.PathValue("id"), Query: r.URL.Query(), Body: body}
			if inc := r.URL.Query().Get("include"); inc != "" {
				req.Include = strings.Split(inc, ",")
			}
			out, status, err := h(r.Context(), r, req)
			var be *recstore.BackendError
			switch {
			case errors.As(err, &be) && be.Status >= 400 && be.Status <= 599:
				writeError(w, be.Status, err)
			case errors.Is(err, recstore.ErrNotFound):
				writeError(w, http.StatusNotFound, err)
			case errors.Is(err, recstore.ErrInvalid):
				writeError(w, http.StatusBadRequest, err)
			case err != nil:
				writeError(w, http.StatusInternalServerError, err)
			case out == nil:
				w.WriteHeader(status)
			default:
				w.Header().Set("Content-Type", "application/vnd.api+json")
				w.WriteHeader(status)
				w.Write(out)
			}
		})
	}
	ok := func(b []byte, err error) ([]byte, int, error) { return b, http.StatusOK, err }
	handle("GET /{type}/{id}", func(ctx context.Context, r *http.Request, req *recstore.Request) ([]byte, int, error) {
		return ok(m.FindRecord(ctx, req))
	})
	handle("GET /{type}", func(ctx context.Context, r *http.Request, req *recstore.Request) ([]byte, int, error) {
		if ids := req.Query.Get("filter[id]"); ids != "" {
			req.IDs = strings.Split(ids, ",")
			return ok(m.FindMany(ctx, req))
		}
		if hasFilter(req.Query) {
			return ok(m.Query(ctx, req))
		}
		return ok(m.FindAll(ctx, req))
	})
	handle("GET /{type}/{id}/{rest...}", func(ctx context.Context, r *http.Request, req *recstore.Request) ([]byte, int, error) {
		req.Link = r.URL.RequestURI()
		return ok(m.FindLink(ctx, req))
	})
	handle("POST /{type}", func(ctx context.Context, r *http.Request, req *recstore.Request) ([]byte, int, error) {
		b, err := m.CreateRecord(ctx, req)
		return b, http.StatusCreated, err
	})
	handle("PATCH /{type}/{id}", func(ctx context.Context, r *http.Request, req *recstore.Request) ([]byte, int, error) {
		return ok(m.UpdateRecord(ctx, req))
	})
	handle("DELETE /{type}/{id}", func(ctx context.Context, r *http.Request, req *recstore.Request) ([]byte, int, error) {
		return nil, http.StatusNoContent, m.DeleteRecord(ctx, req)
	})
	return httptest.NewServer(mux)
}

func hasFilter(q url.Values) bool {
	for k := range q {
		if strings.HasPrefix(k, "filter[") {
			return true
		}
	}
	return false
}

// writeError answers with status and the error objects of err's
// *recstore.BackendError, or else one made from err.
func writeError(w http.ResponseWriter, status int, err error) {
	objs := []recstore.ErrorObject{{Status: strconv.Itoa(status), Title: http.StatusText(status), Detail: err.Error()}}
	var be *recstore.BackendError
	if errors.As(err, &be) && len(be.Errors) > 0 {
		objs = be.Errors
	}
	w.Header().Set("Content-Type", "application/vnd.api+json")
	w.WriteHeader(status)
	body, _ := json.Marshal(map[string]any{"errors": objs})
	w.Write(body)
}

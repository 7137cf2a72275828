package recstoretest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
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
// MemoryAdapter.FindAll and MemoryAdapter.FindLink.
//
// Writes are answered as JSON:API says: POST with 201 Created, the
// record and a Location header naming its URL; PATCH with 200 OK and the
// record; DELETE with 204 No Content. A POST or PATCH that m answers with
// nothing (see MemoryAdapter.NoContent) gets a 204 No Content with no
// body. A POST or PATCH whose Content-Type is not
// application/vnd.api+json (whose only parameters may be ext and
// profile) is refused with a 415, so a test through NewServer also
// checks what its client sends.
//
// A *recstore.BackendError (a missing record's 404, a body's 400 or 409,
// or one that m's Fail, FailNext or OnSave returns, such as Invalid's
// 422) is sent with its status and error objects, a bad page parameter
// is a 400, and any other failure is a 500. The caller must Close the
// server.
func NewServer(m *MemoryAdapter) *httptest.Server {
	mux := http.NewServeMux()
	handle := func(pattern string, h func(ctx context.Context, r *http.Request, req *recstore.Request) ([]byte, int, error)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost || r.Method == http.MethodPatch {
				if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
					writeError(w, err.Status, err)
					return
				}
			}
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
				if status == http.StatusCreated {
					w.Header().Set("Location", location(r, req.Type, out))
				}
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
		if err != nil || b == nil {
			return nil, http.StatusNoContent, err
		}
		return b, http.StatusCreated, nil
	})
	handle("PATCH /{type}/{id}", func(ctx context.Context, r *http.Request, req *recstore.Request) ([]byte, int, error) {
		b, err := m.UpdateRecord(ctx, req)
		if err != nil || b == nil {
			return nil, http.StatusNoContent, err
		}
		return b, http.StatusOK, nil
	})
	handle("DELETE /{type}/{id}", func(ctx context.Context, r *http.Request, req *recstore.Request) ([]byte, int, error) {
		return nil, http.StatusNoContent, m.DeleteRecord(ctx, req)
	})
	return httptest.NewServer(mux)
}

// location is the URL of the record a POST to r created, as answered in
// out: http://127.0.0.1:1234/albums/8.
func location(r *http.Request, typ string, out []byte) string {
	var doc struct {
		Data json.RawMessage `json:"data"`
	}
	_ = json.Unmarshal(out, &doc)
	_, id, _ := identify(doc.Data)
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + typePath(typ) + "/" + url.PathEscape(id)
}

// checkContentType refuses, with a 415 as JSON:API says, a request body
// whose media type is not JSON:API's, or has parameters other than ext
// and profile.
func checkContentType(ct string) *recstore.BackendError {
	mt, params, err := mime.ParseMediaType(ct)
	if err == nil && mt == "application/vnd.api+json" {
		for k := range params {
			if k != "ext" && k != "profile" {
				err = fmt.Errorf("media type parameter %q", k)
			}
		}
	} else if err == nil {
		err = fmt.Errorf("media type %q", mt)
	}
	if err == nil {
		return nil
	}
	be := refusal(http.StatusUnsupportedMediaType, "Unsupported Media Type", "",
		fmt.Sprintf("Content-Type %q is not application/vnd.api+json: %v", ct, err))
	be.Errors[0].Source = &recstore.ErrorSource{Header: "Content-Type"}
	return be
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

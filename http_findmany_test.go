package recstore_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recstore/recstore"
)

// FindMany with no ids, or with an empty id, sends nothing: its URL would
// name the whole collection, as FindAll's does. It fails with an
// *HTTPError wrapping ErrNotFound, in every flavour.
func TestHTTPAdapter_FindManyRefusesNoIDs(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/vnd.api+json")
		w.Write([]byte(`{"data": []}`))
	}))
	t.Cleanup(srv.Close)
	flavours := []struct {
		name string
		ad   recstore.ManyFinder
	}{
		{"filter[id]", &recstore.HTTPAdapter{Host: srv.URL, Namespace: "api"}},
		{"REST ids[]", &recstore.RESTAdapter{HTTPAdapter: recstore.HTTPAdapter{Host: srv.URL, Namespace: "api"}}},
		{"CommaIDsURL", &recstore.HTTPAdapter{Host: srv.URL, Namespace: "api", URLForFindMany: recstore.CommaIDsURL}},
		{"a hook of one's own", &recstore.HTTPAdapter{Host: srv.URL, Namespace: "api", URLForFindMany: idsBrackets}},
	}
	tests := []struct {
		name   string
		ids    []string
		reason string
	}{
		{"nil ids", nil, "GET /api/albums?include=label is a FindAll"},
		{"no ids", []string{}, "GET /api/albums?include=label is a FindAll"},
		{"one empty id", []string{""}, "GET /api/albums/?include=label names the collection"},
		{"an empty id among others", []string{"1", "", "2"}, "FindRecord refuses an empty id too"},
	}
	for _, f := range flavours {
		for _, tt := range tests {
			t.Run(f.name+"/"+tt.name, func(t *testing.T) {
				before := hits.Load()
				body, err := f.ad.FindMany(context.Background(), &recstore.Request{Type: "album", IDs: tt.ids, Include: []string{"label"}})
				require.ErrorIs(t, err, recstore.ErrNotFound, "%s", tt.reason)
				var he *recstore.HTTPError
				require.ErrorAs(t, err, &he)
				assert.Zero(t, he.Status, "nothing was answered")
				assert.Nil(t, body)
				assert.Equal(t, before, hits.Load(), "nothing is sent: %s", tt.reason)
			})
		}
	}
}

// GroupForFindMany gives an empty id a group of its own, in every
// flavour, so that the Store asks FindRecord for it (which refuses it)
// and the other ids still go together.
func TestHTTPAdapter_GroupForFindManyEmptyIDAlone(t *testing.T) {
	const host = "http://api.example.com"
	groupers := []struct {
		name string
		g    recstore.ManyGrouper
	}{
		{"filter[id]", &recstore.HTTPAdapter{Host: host}},
		{"REST ids[]", &recstore.RESTAdapter{HTTPAdapter: recstore.HTTPAdapter{Host: host}}},
		{"CommaIDsURL", &recstore.HTTPAdapter{Host: host, URLForFindMany: recstore.CommaIDsURL}},
	}
	ids := []string{"1", "", "2"}
	for _, tt := range groupers {
		t.Run(tt.name, func(t *testing.T) {
			groups := tt.g.GroupForFindMany("album", slices.Clone(ids))
			assert.ElementsMatch(t, [][]string{{""}, {"1", "2"}}, groups, "ids %q", ids)
		})
	}
}

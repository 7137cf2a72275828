package recstore_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// walkIDs ranges over pages, listing each page's album ids and each error
// yielded; it stops after stop pages when stop > 0.
func walkIDs(t *testing.T, pages func(func(*recstore.QueryResult[Album], error) bool), stop int) ([][]string, []error) {
	t.Helper()
	var got [][]string
	var errs []error
	for page, err := range pages {
		if err != nil {
			assert.Nil(t, page, "a page yielded with error %v", err)
			errs = append(errs, err)
			continue
		}
		got = append(got, albumIDs(page.Records))
		if stop > 0 && len(got) == stop {
			break
		}
	}
	return got, errs
}

// Pages walks from a result the caller already has: the result itself,
// then each page after it, with QueryPages' rules.
func TestQueryResult_Pages(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		from      int // how many times Next is called on the first page before walking
		stop      int // break after this many pages; 0 walks on
		want      [][]string
		wantCalls int // MemoryAdapter calls during the walk
		reason    string
	}{
		{name: "from the first page", want: [][]string{{"1", "2"}, {"3", "4"}, {"5"}}, wantCalls: 2,
			reason: "the first page is not asked for again"},
		{name: "from a later page", from: 1, want: [][]string{{"3", "4"}, {"5"}}, wantCalls: 1},
		{name: "from the last page", from: 2, want: [][]string{{"5"}}, wantCalls: 0, reason: "no next link: nothing to ask"},
		{name: "break", stop: 2, want: [][]string{{"1", "2"}, {"3", "4"}}, wantCalls: 1,
			reason: "nothing is asked after the break"},
		{name: "break at once", stop: 1, want: [][]string{{"1", "2"}}, wantCalls: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := recstoretest.NewMemoryAdapter(albumFixtures(5))
			_, albums := findStore(t, m, nil)
			r, err := albums.Query(ctx, url.Values{"page[size]": {"2"}})
			require.NoError(t, err)
			for range tt.from {
				r, err = r.Next(ctx)
				require.NoError(t, err)
			}
			before := m.Calls("")
			got, errs := walkIDs(t, r.Pages(ctx), tt.stop)
			assert.Empty(t, errs)
			assert.Equal(t, tt.want, got, tt.reason)
			assert.Equal(t, tt.wantCalls, m.Calls("")-before, "adapter calls: %s", tt.reason)

			// Each range walks afresh from r.
			again, errs := walkIDs(t, r.Pages(ctx), tt.stop)
			assert.Empty(t, errs)
			assert.Equal(t, tt.want, again, "the second range")
			assert.Equal(t, 2*tt.wantCalls, m.Calls("")-before, "the second range loads the pages after r again")
		})
	}
}

// Pages yields an error once, with a nil page, and stops.
func TestQueryResult_PagesErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("nil", func(t *testing.T) {
		var r *recstore.QueryResult[Album]
		got, errs := walkIDs(t, r.Pages(ctx), 0)
		assert.Empty(t, got)
		assert.Empty(t, errs)
	})
	t.Run("not made by a store", func(t *testing.T) {
		r := &recstore.QueryResult[Album]{Records: []Album{{ID: "1"}}, Links: map[string]any{"next": "/albums?page=2"}}
		got, errs := walkIDs(t, r.Pages(ctx), 0)
		assert.Equal(t, [][]string{{"1"}}, got)
		require.Len(t, errs, 1)
		require.ErrorIs(t, errs[0], recstore.ErrNotSupported)

		r.Links = nil
		got, errs = walkIDs(t, r.Pages(ctx), 0)
		assert.Equal(t, [][]string{{"1"}}, got, "no next link: r alone")
		assert.Empty(t, errs)
	})
	t.Run("loop", func(t *testing.T) {
		a, calls := loopServer(t, []string{`{"self": "/api/albums?p=0", "next": "?p=1"}`, `{"next": "albums?p=0"}`})
		_, albums := findStore(t, a, nil)
		first, err := albums.Query(ctx, url.Values{"p": {"0"}})
		require.NoError(t, err)
		got, errs := walkIDs(t, first.Pages(ctx), 0)
		assert.Equal(t, [][]string{{"1"}, {"2"}}, got)
		require.Len(t, errs, 1)
		require.ErrorIs(t, errs[0], recstore.ErrPageLoop)
		assert.Equal(t, 2, *calls, "the query and the second page; the loop is not asked for")
	})
	t.Run("cancelled", func(t *testing.T) {
		m := recstoretest.NewMemoryAdapter(albumFixtures(5))
		s, albums := findStore(t, m, nil)
		first, err := albums.Query(ctx, url.Values{"page[size]": {"2"}})
		require.NoError(t, err)
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		n := 0
		var errs []error
		for page, err := range first.Pages(cctx) {
			if err != nil {
				errs = append(errs, err)
				continue
			}
			n++
			require.NotNil(t, page)
			cancel()
		}
		assert.Equal(t, 1, n)
		require.Len(t, errs, 1)
		require.ErrorIs(t, errs[0], context.Canceled)
		assert.Equal(t, 2, s.Len("album"), "nothing after the first page")
	})
}

func TestQueryResult_HasNext(t *testing.T) {
	tests := []struct {
		name string
		r    *recstore.QueryResult[Album]
		want bool
	}{
		{"nil", nil, false},
		{"no links", &recstore.QueryResult[Album]{}, false},
		{"string", &recstore.QueryResult[Album]{Links: map[string]any{"next": "/albums?page=2"}}, true},
		{"href", &recstore.QueryResult[Album]{Links: map[string]any{"next": map[string]any{"href": "?page=2"}}}, true},
		{"null", &recstore.QueryResult[Album]{Links: map[string]any{"next": nil}}, false},
		{"empty", &recstore.QueryResult[Album]{Links: map[string]any{"next": ""}}, false},
		{"not a link", &recstore.QueryResult[Album]{Links: map[string]any{"next": 2.0}}, false},
		{"prev only", &recstore.QueryResult[Album]{Links: map[string]any{"prev": "/albums?page=1"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.r.HasNext(), "links %v", tt.r)
			if !tt.want {
				next, err := tt.r.Next(context.Background())
				assert.Nil(t, next)
				assert.NoError(t, err, "no next link: Next returns nil, nil")
			}
		})
	}
}

// The loop in Next's doc comment compiles and walks every page, errors
// included.
func TestQueryResult_NextLoop(t *testing.T) {
	ctx := context.Background()
	walk := func(albums *recstore.Model[Album], query url.Values) ([][]string, error) {
		var got [][]string
		page, err := albums.Query(ctx, query)
		for ; page != nil && err == nil; page, err = page.Next(ctx) {
			got = append(got, albumIDs(page.Records))
		}
		return got, err
	}
	_, albums := findStore(t, recstoretest.NewMemoryAdapter(albumFixtures(5)), nil)
	got, err := walk(albums, url.Values{"page[size]": {"2"}})
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"1", "2"}, {"3", "4"}, {"5"}}, got)

	a, _ := loopServer(t, []string{`{"self": "/api/albums?p=0", "next": "?p=0"}`})
	_, albums = findStore(t, a, nil)
	got, err = walk(albums, url.Values{"p": {"0"}})
	require.ErrorIs(t, err, recstore.ErrPageLoop)
	assert.Equal(t, [][]string{{"1"}}, got)
}

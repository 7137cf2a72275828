package recstore_test

import (
	"context"
	"fmt"
	"net/url"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
)

// QueryPages walks every page of a paginated collection, here from
// recstoretest's JSON:API server on loopback, pushing each page as it
// goes. Next loads one page at a time.
func ExampleModel_QueryPages() {
	type Album struct {
		ID    string `jsonapi:"primary,album"`
		Title string `jsonapi:"attr,title"`
	}
	backend := recstoretest.NewMemoryAdapter(`{"data": [
		{"type": "albums", "id": "1", "attributes": {"title": "Hospice"}},
		{"type": "albums", "id": "2", "attributes": {"title": "Burst Apart"}},
		{"type": "albums", "id": "3", "attributes": {"title": "Familiars"}},
		{"type": "albums", "id": "4", "attributes": {"title": "Hope Six"}},
		{"type": "albums", "id": "5", "attributes": {"title": "Some Loud Thunder"}}]}`)
	srv := recstoretest.NewServer(backend)
	defer srv.Close()
	store := recstore.New(&recstore.Options{Adapter: &recstore.HTTPAdapter{Host: srv.URL}})
	defer store.Close()
	albums := recstore.MustRegister[Album](store, nil)

	ctx := context.Background()
	for page, err := range albums.QueryPages(ctx, url.Values{"page[size]": {"2"}}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		next, _ := url.QueryUnescape(recstore.Href(page.Links, "next"))
		fmt.Printf("%v of %v; next: %q\n", page.Records, page.Meta["total"], next)
	}
	fmt.Println(albums.Len(), "albums in the store")

	// One page at a time: Next returns nil after the last.
	first, err := albums.Query(ctx, url.Values{"page[size]": {"4"}})
	fmt.Println(len(first.Records), err)
	second, err := first.Next(ctx)
	fmt.Println(second.Records, err)
	third, err := second.Next(ctx)
	fmt.Println(third, err)
	// Output:
	// [{1 Hospice} {2 Burst Apart}] of 5; next: "/albums?page[number]=2&page[size]=2"
	// [{3 Familiars} {4 Hope Six}] of 5; next: "/albums?page[number]=3&page[size]=2"
	// [{5 Some Loud Thunder}] of 5; next: ""
	// 5 albums in the store
	// 4 <nil>
	// [{5 Some Loud Thunder}] <nil>
	// <nil> <nil>
}

// Pages walks on from a page already in hand: here the first page,
// whose meta is read before the walk. It yields that page, then loads
// the others one by one, as QueryPages does after its Query.
func ExampleQueryResult_Pages() {
	type Album struct {
		ID    string `jsonapi:"primary,album"`
		Title string `jsonapi:"attr,title"`
	}
	backend := recstoretest.NewMemoryAdapter(`{"data": [
		{"type": "albums", "id": "1", "attributes": {"title": "Hospice"}},
		{"type": "albums", "id": "2", "attributes": {"title": "Burst Apart"}},
		{"type": "albums", "id": "3", "attributes": {"title": "Familiars"}},
		{"type": "albums", "id": "4", "attributes": {"title": "Hope Six"}},
		{"type": "albums", "id": "5", "attributes": {"title": "Some Loud Thunder"}}]}`)
	store := recstore.New(&recstore.Options{Adapter: backend})
	defer store.Close()
	albums := recstore.MustRegister[Album](store, nil)

	ctx := context.Background()
	first, err := albums.Query(ctx, url.Values{"page[size]": {"2"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(first.Meta["total"], "albums; more pages:", first.HasNext())
	for page, err := range first.Pages(ctx) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(page.Records, "more pages:", page.HasNext())
	}
	fmt.Println(backend.Calls("Query"), "query,", backend.Calls("FindLink"), "links followed")
	// Output:
	// 5 albums; more pages: true
	// [{1 Hospice} {2 Burst Apart}] more pages: true
	// [{3 Familiars} {4 Hope Six}] more pages: true
	// [{5 Some Loud Thunder}] more pages: false
	// 1 query, 2 links followed
}

package recstore_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
)

// Find answers from the Store when it can and asks the Adapter when it
// must; concurrent Finds of one record share one call.
func ExampleModel_Find() {
	type Album struct {
		ID    string `jsonapi:"primary,album"`
		Title string `jsonapi:"attr,title"`
	}
	calls := 0
	backend := recstore.AdapterFunc(func(ctx context.Context, req *recstore.Request) ([]byte, error) {
		calls++
		return []byte(`{"data": {"type": "albums", "id": "` + req.ID + `", "attributes": {"title": "Hospice"}}}`), nil
	})
	store := recstore.New(&recstore.Options{Adapter: backend})
	defer store.Close()
	albums := recstore.MustRegister[Album](store, nil)

	ctx := context.Background()
	a, err := albums.Find(ctx, "1", nil) // a miss: asks the adapter
	fmt.Println(a, err, calls)

	// A hit: answered from the Store. By default a background reload
	// would follow, as in Ember Data; this Find asks for none.
	a, err = albums.Find(ctx, "1", &recstore.FindOptions{BackgroundReload: recstore.ReloadNever})
	fmt.Println(a, err, calls)
	// Output:
	// {1 Hospice} <nil> 1
	// {1 Hospice} <nil> 1
}

// An HTTPAdapter loads records from a JSON:API backend; here a test server
// from recstoretest, backed by fixtures.
func ExampleHTTPAdapter() {
	type Album struct {
		ID        string `jsonapi:"primary,album"`
		Title     string `jsonapi:"attr,title"`
		SongCount int    `jsonapi:"attr,songCount"`
	}
	backend := recstoretest.NewMemoryAdapter(`{"data": [
		{"type": "albums", "id": "1", "attributes": {"title": "Fewer Moving Parts", "song-count": 10}}]}`)
	srv := recstoretest.NewServer(backend)
	defer srv.Close()

	store := recstore.New(&recstore.Options{Adapter: &recstore.HTTPAdapter{Host: srv.URL}})
	defer store.Close()
	albums := recstore.MustRegister[Album](store, nil)

	a, err := albums.Find(context.Background(), "1", nil)
	fmt.Printf("%+v %v\n", a, err)
	_, err = albums.Find(context.Background(), "2", nil)
	var he *recstore.HTTPError
	if errors.As(err, &he) {
		fmt.Println(errors.Is(err, recstore.ErrNotFound), he.Status, he.Errors[0].Title)
	}
	// Output:
	// {ID:1 Title:Fewer Moving Parts SongCount:10} <nil>
	// true 404 Not Found
}

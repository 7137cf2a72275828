package recstore_test

import (
	"context"
	"fmt"

	"github.com/recstore/recstore"
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

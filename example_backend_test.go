package recstore_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/recstore/recstore"
)

// An adapter of any kind (here a function standing in for a SQL or gRPC
// backend) reports a refusal as a *BackendError, which matches the same
// sentinels as an *HTTPError of that status.
func ExampleBackendError() {
	type Album struct {
		ID    string `jsonapi:"primary,album"`
		Title string `jsonapi:"attr,title"`
	}
	backend := recstore.AdapterFunc(func(ctx context.Context, req *recstore.Request) ([]byte, error) {
		return nil, &recstore.BackendError{Status: 404, Errors: []recstore.ErrorObject{{Title: "Not Found", Detail: "no album " + req.ID}}}
	})
	store := recstore.New(&recstore.Options{Adapter: backend})
	defer store.Close()
	albums := recstore.MustRegister[Album](store, nil)

	_, err := albums.Find(context.Background(), "7", nil)
	var be *recstore.BackendError
	if errors.As(err, &be) {
		fmt.Println(errors.Is(err, recstore.ErrNotFound), be.Status, be.Errors[0].Detail)
	}
	fmt.Println(err)
	// Output:
	// true 404 no album 7
	// recstore: FindRecord album:7: backend returned 404: no album 7
}

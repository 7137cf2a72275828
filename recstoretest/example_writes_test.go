package recstoretest_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
)

// OnSave acts out a server's validation: a blank title is refused with a
// 422 pointing at it, and nothing is stored.
func ExampleMemoryAdapter_OnSave() {
	backend := recstoretest.NewMemoryAdapter()
	backend.OnSave = func(op string, req *recstore.Request, res map[string]any) error {
		if res["attributes"].(map[string]any)["title"] == "" {
			return recstoretest.Invalid("/data/attributes/title", "can't be blank")
		}
		return nil
	}
	_, err := backend.CreateRecord(context.Background(), &recstore.Request{Type: "album",
		Body: []byte(`{"data": {"type": "albums", "attributes": {"title": ""}}}`)})
	var be *recstore.BackendError
	if errors.As(err, &be) {
		fmt.Println(be.Status, errors.Is(err, recstore.ErrInvalid), be.Errors[0].Source.Pointer, be.Errors[0].Detail)
	}
	fmt.Println(backend.Has("album", "1"))
	// Output:
	// 422 true /data/attributes/title can't be blank
	// false
}

// FailNext fails a save once, as a flaky backend would, and lets the
// retry through.
func ExampleMemoryAdapter_FailNext() {
	backend := recstoretest.NewMemoryAdapter(`{"data": {"type": "albums", "id": "1", "attributes": {"title": "A"}}}`)
	backend.FailNext("UpdateRecord", &recstore.BackendError{Status: 503})
	req := &recstore.Request{Type: "album", ID: "1", Body: []byte(`{"data": {"type": "albums", "id": "1", "attributes": {"title": "B"}}}`)}
	for range 2 {
		_, err := backend.UpdateRecord(context.Background(), req)
		fmt.Println(err, errors.Is(err, recstore.ErrServer))
	}
	// Output:
	// recstore: backend returned 503 true
	// <nil> false
}

package recstore_test

import (
	"errors"
	"fmt"

	"github.com/recstore/recstore"
)

// What a push leaves out or coerces with a loss reaches OnReport as
// values, merged per payload: two records with the same problems give
// two reports, each counted twice and pointing at the first. A Strict
// serializer fails on the lossy value instead, and pushes nothing.
func ExampleReport() {
	type Album struct {
		ID        string `jsonapi:"primary,album"`
		Title     string `jsonapi:"attr,title"`
		SongCount int    `jsonapi:"attr,songCount"`
	}
	payload := `{"albums": [
		{"id": 1, "title": "Fever Moving Parts", "songCount": "twelve", "rating": 5},
		{"id": 2, "title": "Calgary", "songCount": "two", "rating": 4}]}`

	store := recstore.New(&recstore.Options{
		Serializer: &recstore.RESTSerializer{},
		OnReport: func(r recstore.Report) {
			fmt.Printf("%s %s.%s at %s, %d times: %s\n", r.Kind, r.Type, r.Member, r.Pointer, r.Count, r.Message)
		},
	})
	albums := recstore.MustRegister[Album](store, nil)
	pushed, err := albums.PushPayload(payload)
	fmt.Printf("%+v %v\n", pushed, err)

	strict := recstore.New(&recstore.Options{
		Serializer: &recstore.RESTSerializer{JSONSerializer: recstore.JSONSerializer{Strict: true}},
	})
	recstore.MustRegister[Album](strict, nil)
	_, err = strict.PushPayload("album", payload)
	fmt.Println(errors.Is(err, recstore.ErrLossyCoercion))
	fmt.Println(err)
	// Output:
	// lossy-coercion album.songCount at /albums/0/songCount, 2 times: lossy coercion: non-numeric string to number
	// unknown-member album.rating at /albums/0/rating, 2 times: unknown member skipped
	// [{ID:1 Title:Fever Moving Parts SongCount:0} {ID:2 Title:Calgary SongCount:0}] <nil>
	// true
	// recstore: invalid document at /albums/0/songCount: cannot store "twelve" in album.songCount (Go type int): lossy coercion: non-numeric string to number
}

package recstore_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/inflect"
	"github.com/recstore/recstore/recstoretest"
)

// The guide's pushPayload: a REST payload keyed by type, with the album
// serializer's normalize step renaming song_count. PushPayload returns
// what it pushed.
func ExampleStore_PushPayload() {
	type Album struct {
		ID        string `jsonapi:"primary,album"`
		Title     string `jsonapi:"attr,title"`
		SongCount int    `jsonapi:"attr,songCount"`
	}
	store := recstore.New(nil)
	albums := recstore.MustRegister[Album](store, &recstore.ModelOptions{
		Serializer: &recstore.RESTSerializer{JSONSerializer: recstore.JSONSerializer{
			NormalizeHash: func(typ string, h *recstore.Hash) error {
				h.Rename("song_count", "songCount")
				return nil
			},
		}},
	})

	pushed, err := albums.PushPayload(`{"albums": [
		{"id": 1, "title": "Fever Moving Parts", "song_count": 10},
		{"id": 2, "title": "Calgary", "song_count": "2"}]}`)
	fmt.Printf("%+v %v\n", pushed, err)
	// Output: [{ID:1 Title:Fever Moving Parts SongCount:10} {ID:2 Title:Calgary SongCount:2}] <nil>
}

// A backend with snake_case keys, an _id primary key and a renamed field,
// read and written with one configured serializer: no serializer code.
func ExampleJSONSerializer() {
	type Person struct {
		ID        string `jsonapi:"primary,person"`
		FirstName string `jsonapi:"attr,firstName"`
		Email     string `jsonapi:"attr,email"`
	}
	store := recstore.New(&recstore.Options{
		Serializer: &recstore.RESTSerializer{JSONSerializer: recstore.JSONSerializer{
			PrimaryKey:      "_id",
			KeyForAttribute: inflect.Underscore,
			Attrs:           map[string]string{"email": "email_address"},
		}},
	})
	people := recstore.MustRegister[Person](store, nil)

	if _, err := people.PushPayload(`{"people": [{"_id": "p1", "first_name": "Ann", "email_address": "ann@example.com"}]}`); err != nil {
		panic(err)
	}
	p, _ := people.Peek("p1")
	fmt.Printf("%+v\n", p)

	out, _ := people.Serialize("p1", &recstore.SerializeOptions{IncludeID: true})
	fmt.Println(string(out))
	// Output:
	// {ID:p1 FirstName:Ann Email:ann@example.com}
	// {"person":{"_id":"p1","first_name":"Ann","email_address":"ann@example.com"}}
}

// A serializer of your own: any function from a payload to a Document.
// This one reads CSV lines of id,title.
func ExampleSerializerFunc() {
	type Album struct {
		ID    string `jsonapi:"primary,album"`
		Title string `jsonapi:"attr,title"`
	}
	csv := recstore.SerializerFunc(func(s *recstore.Store, typ string, payload []byte) (*recstore.Document, error) {
		doc := &recstore.Document{Many: true}
		for line := range strings.Lines(string(payload)) {
			id, title, ok := strings.Cut(strings.TrimSpace(line), ",")
			if !ok {
				return nil, fmt.Errorf("want id,title: %q", line)
			}
			doc.Data = append(doc.Data, &recstore.Resource{Type: typ, ID: id,
				Attributes: map[string]any{"title": title}})
		}
		return doc, nil
	})
	store := recstore.New(nil)
	albums := recstore.MustRegister[Album](store, &recstore.ModelOptions{Serializer: csv})

	pushed, err := albums.PushPayload("1,Hospice\n2,Calgary\n")
	fmt.Println(pushed, err)
	// Output: [{1 Hospice} {2 Calgary}] <nil>
}

// A record written back as a PATCH-ready JSON:API document, with the
// default serializer's plural type and dasherized member names.
func ExampleStore_Serialize() {
	type Album struct {
		ID        string `jsonapi:"primary,album"`
		Title     string `jsonapi:"attr,title"`
		SongCount int    `jsonapi:"attr,songCount"`
	}
	store := recstore.New(nil)
	recstore.MustRegister[Album](store, nil)
	if _, err := store.Push(`{"data": {"type": "album", "id": "1", "attributes": {"title": "Hospice", "songCount": 9}}}`); err != nil {
		panic(err)
	}
	out, err := store.Serialize(recstore.Key{Type: "album", ID: "1"}, &recstore.SerializeOptions{IncludeID: true})
	fmt.Println(string(out), err)
	// Output: {"data":{"type":"albums","id":"1","attributes":{"title":"Hospice","song-count":9}}} <nil>
}

// A backend's validation errors mapped back to attribute names.
func ExampleStore_ExtractErrors() {
	type Album struct {
		ID    string `jsonapi:"primary,album"`
		Title string `jsonapi:"attr,title"`
	}
	store := recstore.New(&recstore.Options{Serializer: &recstore.RESTSerializer{
		JSONSerializer: recstore.JSONSerializer{Attrs: map[string]string{"title": "le_title"}},
	}})
	recstore.MustRegister[Album](store, nil)

	msgs := store.ExtractErrors("album", []recstore.ErrorObject{
		{Detail: "is too short", Source: &recstore.ErrorSource{Pointer: "/data/attributes/le_title"}},
		{Title: "is locked", Source: &recstore.ErrorSource{Pointer: "/data"}},
	})
	fmt.Println(msgs)
	// Output: map[base:[is locked] title:[is too short]]
}

// Embedded records, as Ember's embedded: 'always': read out of the hash as
// records of their own, and written back inside it.
func ExampleJSONSerializer_embedded() {
	type Comment struct {
		ID   string `jsonapi:"primary,comment"`
		Body string `jsonapi:"attr,body"`
	}
	type Post struct {
		ID       string     `jsonapi:"primary,post"`
		Title    string     `jsonapi:"attr,title"`
		Comments []*Comment `jsonapi:"relation,comments"`
	}
	store := recstore.New(&recstore.Options{
		Serializer: &recstore.RESTSerializer{JSONSerializer: recstore.JSONSerializer{
			Embedded: map[string]bool{"comments": true},
		}},
	})
	posts := recstore.MustRegister[Post](store, nil)
	comments := recstore.MustRegister[Comment](store, nil)

	if _, err := posts.PushPayload(`{"post": {"id": 1, "title": "Hello", "comments": [{"id": 7, "body": "First"}]}}`); err != nil {
		panic(err)
	}
	c, _ := comments.Peek("7")
	fmt.Printf("%+v\n", c)

	out, _ := posts.Serialize("1", nil)
	fmt.Println(string(out))
	// Output:
	// {ID:7 Body:First}
	// {"post":{"title":"Hello","comments":[{"id":"7","body":"First"}]}}
}

// A type named at run time, as a generic service wrapping the Store would
// have it: the answer is keys, in the backend's order, with its meta.
func ExampleStore_Query() {
	type Album struct {
		ID    string `jsonapi:"primary,album"`
		Title string `jsonapi:"attr,title"`
	}
	backend := recstoretest.NewMemoryAdapter(`{"data": [
		{"type": "album", "id": "1", "attributes": {"title": "Hospice"}},
		{"type": "album", "id": "2", "attributes": {"title": "Calgary"}}]}`)
	store := recstore.New(&recstore.Options{Adapter: backend})
	defer store.Close()
	recstore.MustRegister[Album](store, nil)

	res, err := store.Query(context.Background(), "album", url.Values{"filter[title]": {"Calgary"}})
	fmt.Println(res.Records, err)
	// Output: [album:2] <nil>
}

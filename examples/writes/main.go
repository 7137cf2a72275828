// Command writes shows the write side of recstore, as Ember Data's guide
// to creating, updating and deleting records does, against a local
// JSON:API server (recstoretest.NewServer over an in-memory backend, so it
// runs offline): it creates an album without an id and saves it (the
// server gives it one), edits and saves it, has a save refused as invalid
// and fixes it, and destroys another album. At each step it prints the
// record's state, as Ember Data's stateName writes it, and its changed
// attributes.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"maps"
	"slices"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoretest"
)

// Album is the guide's album model.
type Album struct {
	ID        string `jsonapi:"primary,album"`
	Title     string `jsonapi:"attr,title"`
	Artist    string `jsonapi:"attr,artist"`
	SongCount int    `jsonapi:"attr,songCount"`
}

// fixtures is what the backend holds at first, with member names
// dasherized as a JSON:API server writes them.
const fixtures = `{"data": [
	{"type": "albums", "id": "1", "attributes": {"title": "Fewer Moving Parts", "artist": "David Bazan", "song-count": 10}},
	{"type": "albums", "id": "2", "attributes": {"title": "Calgary b/w I Can't Make You Love Me/Nick Of Time", "artist": "Bon Iver", "song-count": 2}}
]}`

func main() {
	var store *recstore.Store
	// The backend refuses an album with an empty title, as a server's
	// validations would: a 422 with a pointer to the title. While it
	// works on an update or a delete, the client's record is in flight.
	backend := recstoretest.NewMemoryAdapter(fixtures)
	backend.OnSave = func(op string, req *recstore.Request, res map[string]any) error {
		if op == "UpdateRecord" {
			inFlight(store, req)
		}
		if res["attributes"].(map[string]any)["title"] == "" {
			return recstoretest.Invalid("/data/attributes/title", "can't be blank")
		}
		return nil
	}
	backend.Fail = func(op string, req *recstore.Request) error {
		if op == "DeleteRecord" {
			inFlight(store, req)
		}
		return nil
	}
	srv := recstoretest.NewServer(backend)
	defer srv.Close()

	store = recstore.New(&recstore.Options{Adapter: &recstore.HTTPAdapter{Host: srv.URL}})
	defer store.Close()
	albums := recstore.MustRegister[Album](store, nil)
	ctx := context.Background()
	if _, err := albums.FindAll(ctx, nil); err != nil {
		log.Fatal(err)
	}
	fmt.Println("loaded:", albums.Len(), "albums")

	// createRecord: no id yet, so the album goes by a local identifier.
	k, err := albums.Create(Album{Title: "Hospice", Artist: "The Antlers"})
	if err != nil {
		log.Fatal(err)
	}
	show("created", store, k)

	// save: POST /albums; the server answers with the id it gave it.
	saved, err := albums.Save(ctx, k.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("saved as album %s (the key %s resolves to %s)\n", saved.ID, k.ID, store.Resolve(k))
	k = store.Resolve(k)
	show("after save", store, k)

	// Edit, then save: PATCH /albums/3 with the changed attributes.
	if _, err := albums.Edit(k.ID, func(a *Album) { a.SongCount = 10 }); err != nil {
		log.Fatal(err)
	}
	show("edited", store, k)
	if _, err := albums.Save(ctx, k.ID); err != nil {
		log.Fatal(err)
	}
	show("after save", store, k)

	// A save the server refuses: the change stays, and the state holds
	// the server's messages by attribute.
	if _, err := albums.Edit(k.ID, func(a *Album) { a.Title = "" }); err != nil {
		log.Fatal(err)
	}
	_, err = albums.Save(ctx, k.ID)
	var be *recstore.BackendError
	if !errors.As(err, &be) || !errors.Is(err, recstore.ErrInvalid) {
		log.Fatalf("want a refusal as invalid, got %v", err)
	}
	fmt.Printf("save refused: %d %s: %s %s\n", be.Status, be.Errors[0].Title, be.Errors[0].Source.Pointer, be.Errors[0].Detail)
	show("refused", store, k)

	// The fix: a new title clears the title's errors; the save succeeds.
	if _, err := albums.Edit(k.ID, func(a *Album) { a.Title = "Hospice (10th Anniversary)" }); err != nil {
		log.Fatal(err)
	}
	show("fixed", store, k)
	if _, err := albums.Save(ctx, k.ID); err != nil {
		log.Fatal(err)
	}
	show("after save", store, k)

	// destroyRecord: DELETE /albums/2, then unload.
	k2 := recstore.Key{Type: "album", ID: "2"}
	if err := store.Destroy(ctx, k2); err != nil {
		log.Fatal(err)
	}
	show("destroyed", store, k2)
	fmt.Println("backend has album 2:", backend.Has("album", "2"), "| store holds:", albums.Len(), "albums")

	for id, a := range albums.All() {
		fmt.Printf("album %s: %q by %s, %d songs\n", id, a.Title, a.Artist, a.SongCount)
	}
}

// inFlight prints the state of the record a backend call is about: the
// client's Save is waiting for the answer.
func inFlight(store *recstore.Store, req *recstore.Request) {
	k := recstore.Key{Type: "album", ID: req.ID}
	fmt.Printf("%-12s %s %s\n", "  in flight:", k, store.State(k).Name())
}

// show prints the record k's state and its changed attributes, sorted by
// name.
func show(step string, store *recstore.Store, k recstore.Key) {
	st := store.State(k)
	fmt.Printf("%-12s %s %s", step+":", k, st.Name())
	if len(st.Errors) > 0 {
		fmt.Printf(" errors=%v", st.Errors)
	}
	fmt.Println()
	changes := store.ChangedAttributes(k)
	for _, name := range slices.Sorted(maps.Keys(changes)) {
		c := changes[name]
		fmt.Printf("%12s %s: %#v -> %#v\n", "", name, c.Old, c.New)
	}
}

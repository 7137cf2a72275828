package recstore_test

import (
	"context"
	"fmt"

	"github.com/recstore/recstore"
)

// linkBackend serves canned JSON:API documents by URL: Find by
// "/type/id", and links as the backend sent them.
type linkBackend map[string]string

func (b linkBackend) get(url string) ([]byte, error) {
	doc, ok := b[url]
	if !ok {
		return nil, fmt.Errorf("%s: %w", url, recstore.ErrNotFound)
	}
	return []byte(doc), nil
}

// FindRecord serves /type/id.
func (b linkBackend) FindRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	return b.get("/" + req.Type + "/" + req.ID)
}

// FindLink serves the link as sent; a real adapter resolves a relative one.
func (b linkBackend) FindLink(ctx context.Context, req *recstore.Request) ([]byte, error) {
	return b.get(req.Link)
}

// A relationship that comes with only a related link is loaded through
// it: the answer is pushed and becomes the relationship's data.
func ExampleStore_LoadRelated() {
	type Track struct {
		ID    string `jsonapi:"primary,track"`
		Title string `jsonapi:"attr,title"`
	}
	type Album struct {
		ID     string   `jsonapi:"primary,album"`
		Title  string   `jsonapi:"attr,title"`
		Tracks []*Track `jsonapi:"relation,tracks"`
	}
	backend := linkBackend{
		"/album/1": `{"data": {"type": "album", "id": "1", "attributes": {"title": "Hospice"},
			"links": {"self": "/album/1"},
			"relationships": {"tracks": {"links": {"related": "/album/1/tracks"}}}}}`,
		"/album/1/tracks": `{"data": [
			{"type": "track", "id": "10", "attributes": {"title": "Prologue"}},
			{"type": "track", "id": "11", "attributes": {"title": "Atrophy"}}],
			"meta": {"total": 2}}`,
	}
	store := recstore.New(&recstore.Options{Adapter: backend})
	defer store.Close()
	albums := recstore.MustRegister[Album](store, nil)
	recstore.MustRegister[Track](store, nil)

	ctx := context.Background()
	a, _ := albums.Find(ctx, "1", nil)
	fmt.Println(a.Title, len(a.Tracks), albums.Links("1"))

	k := recstore.Key{Type: "album", ID: "1"}
	before, _ := store.Related(k, "tracks")
	fmt.Println(before.Known, recstore.Href(before.Links, "related"))

	r, err := store.LoadRelated(ctx, k, "tracks")
	fmt.Println(r.Known, r.Keys, r.Meta, err)
	a, _ = albums.Peek("1")
	for _, t := range a.Tracks {
		fmt.Println(t.ID, t.Title)
	}
	// Output:
	// Hospice 0 map[self:/album/1]
	// false /album/1/tracks
	// true [track:10 track:11] map[total:2] <nil>
	// 10 Prologue
	// 11 Atrophy
}

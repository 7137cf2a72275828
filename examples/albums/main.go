// Command albums is the README's main example: the first two examples of
// Ember Data's guide to pushing records, in Go. It pushes two albums exactly
// as the guide writes them (numeric ids and all), reads them back, then
// pushes a document that changes only a title and shows the artist
// unchanged. Last, it pushes the guide's REST payload through an album
// serializer whose normalize step renames song_count to songCount.
package main

import (
	"fmt"
	"log"

	"github.com/recstore/recstore"
)

// Album is the guide's album model.
type Album struct {
	ID        string `jsonapi:"primary,album"`
	Title     string `jsonapi:"attr,title"`
	Artist    string `jsonapi:"attr,artist"`
	SongCount int    `jsonapi:"attr,songCount"`
}

func main() {
	store := recstore.New(nil)
	albums := recstore.MustRegister[Album](store, &recstore.ModelOptions{
		// The guide's AlbumSerializer: a REST serializer whose normalize
		// step renames song_count to songCount. Push ignores it; only
		// PushPayload and Normalize use serializers.
		Serializer: &recstore.RESTSerializer{JSONSerializer: recstore.JSONSerializer{
			NormalizeHash: func(typ string, h *recstore.Hash) error {
				h.Rename("song_count", "songCount")
				return nil
			},
		}},
	})

	// The guide's document, as a Go literal: ids are numbers, and the
	// store turns them into the strings "1" and "2".
	_, err := store.Push(map[string]any{
		"data": []any{
			map[string]any{
				"id":   1,
				"type": "album",
				"attributes": map[string]any{
					"title":     "Fewer Moving Parts",
					"artist":    "David Bazan",
					"songCount": 10,
				},
				"relationships": map[string]any{},
			},
			map[string]any{
				"id":   2,
				"type": "album",
				"attributes": map[string]any{
					"title":     "Calgary b/w I Can't Make You Love Me/Nick Of Time",
					"artist":    "Bon Iver",
					"songCount": 2,
				},
				"relationships": map[string]any{},
			},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	for id, a := range albums.All() {
		fmt.Printf("album %s: %q by %s, %d songs\n", id, a.Title, a.Artist, a.SongCount)
	}

	// A partial update: only the title is sent, so the artist and song
	// count keep their values.
	updated, err := albums.Push(`{"data": {"type": "album", "id": "1",
		"attributes": {"title": "Fewer Moving Parts (Deluxe)"}}}`)
	if err != nil {
		log.Fatal(err)
	}
	a := updated[0]
	fmt.Printf("after update: %q by %s, %d songs\n", a.Title, a.Artist, a.SongCount)

	// The guide's pushPayload, exactly as it writes the payload. Unlike
	// Ember Data's, PushPayload returns the records it pushed.
	pushed, err := albums.PushPayload(map[string]any{
		"albums": []any{
			map[string]any{
				"id":         1,
				"title":      "Fever Moving Parts",
				"artist":     "David Bazan",
				"song_count": 10,
			},
			map[string]any{
				"id":         2,
				"title":      "Calgary b/w I Can't Make You Love Me/Nick Of Time",
				"artist":     "Bon Iver",
				"song_count": 2,
			},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range pushed {
		fmt.Printf("pushPayload: album %s: %q by %s, %d songs\n", a.ID, a.Title, a.Artist, a.SongCount)
	}
}

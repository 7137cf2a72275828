package recstore_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/recstore/recstore"
)

// BenchmarkZZPushMovesTracks pushes 1,000 tracks that move between 1,000
// loaded albums: every album is touched by an inverse only.
func BenchmarkZZPushMovesTracks(b *testing.B) {
	const n = 1000
	doc := func(shift int) []byte {
		var buf bytes.Buffer
		buf.WriteString(`{"data":[`)
		for i := range n {
			if i > 0 {
				buf.WriteByte(',')
			}
			fmt.Fprintf(&buf, `{"type":"track","id":"%d","relationships":{"album":{"data":{"type":"album","id":"%d"}}}}`, i, (i+shift)%n)
		}
		buf.WriteString(`]}`)
		return buf.Bytes()
	}
	var albums bytes.Buffer
	albums.WriteString(`{"data":[`)
	for i := range n {
		if i > 0 {
			albums.WriteByte(',')
		}
		fmt.Fprintf(&albums, `{"type":"album","id":"%d","attributes":{"title":"Album %d"}}`, i, i)
	}
	albums.WriteString(`]}`)
	s := recstore.New(&recstore.Options{MaxDocumentBytes: 1 << 30, MaxResources: 1 << 24})
	recstore.MustRegister[BenchTrack](s, nil)
	recstore.MustRegister[BenchTrackAlbum](s, nil)
	if _, err := s.Push(albums.Bytes()); err != nil {
		b.Fatal(err)
	}
	docs := [2][]byte{doc(0), doc(1)}
	if _, err := s.Push(docs[0]); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		i++
		if _, err := s.Push(docs[i%2]); err != nil {
			b.Fatal(err)
		}
	}
}

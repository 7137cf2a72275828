// Package enginebench measures the JSON engines recstore could have been
// built on, decoding the same 10,000-album JSON:API document, against
// recstore's own scanner (Store.Push). It is a separate module so that its
// candidates never become dependencies of recstore.
//
//	cd internal/enginebench && go test -run '^$' -bench . -benchmem
//	cd internal/enginebench && GOEXPERIMENT=jsonv2 go test -run '^$' -bench . -benchmem
//
// The second line adds the standard library's encoding/json/v2.
package enginebench

import (
	"bytes"
	stdjson "encoding/json"
	"fmt"
	"testing"

	jsonexp "github.com/go-json-experiment/json"
	gojson "github.com/goccy/go-json"
	jsoniter "github.com/json-iterator/go"

	"github.com/recstore/recstore"
)

type album struct {
	ID        string `jsonapi:"primary,album"`
	Title     string `jsonapi:"attr,title"`
	Artist    string `jsonapi:"attr,artist"`
	SongCount int    `jsonapi:"attr,songCount"`
	Label     *label `jsonapi:"relation,label"`
}

type label struct {
	ID   string `jsonapi:"primary,label"`
	Name string `jsonapi:"attr,name"`
}

type plainAlbum struct {
	Title, Artist, LabelID string
	SongCount              int
}

type ident struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// doc is the document as plain structs: what each engine decodes into.
type doc struct {
	Data []struct {
		Type       string `json:"type"`
		ID         string `json:"id"`
		Attributes struct {
			Title     string `json:"title"`
			Artist    string `json:"artist"`
			SongCount int    `json:"songCount"`
		} `json:"attributes"`
		Relationships struct {
			Label struct {
				Data *ident `json:"data"`
			} `json:"label"`
		} `json:"relationships"`
	} `json:"data"`
	Included []struct {
		Type       string `json:"type"`
		ID         string `json:"id"`
		Attributes struct {
			Name string `json:"name"`
		} `json:"attributes"`
	} `json:"included"`
}

const n = 10_000

func albumDoc() []byte {
	var b bytes.Buffer
	b.WriteString(`{"data":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":"album","id":"%d","attributes":{"title":"Album number %d","artist":"Artist %d","songCount":%d},`+
			`"relationships":{"label":{"data":{"type":"label","id":"%d"}}}}`, i, i, i%997, i%23, i%100)
	}
	b.WriteString(`],"included":[`)
	for i := range 100 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":"label","id":"%d","attributes":{"name":"Label %d"}}`, i, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// insert puts decoded albums into a map, as a store would index them.
func insert(d *doc) map[string]*plainAlbum {
	m := make(map[string]*plainAlbum)
	for i := range d.Data {
		r := &d.Data[i]
		a := &plainAlbum{Title: r.Attributes.Title, Artist: r.Attributes.Artist, SongCount: r.Attributes.SongCount}
		if r.Relationships.Label.Data != nil {
			a.LabelID = r.Relationships.Label.Data.ID
		}
		m[r.ID] = a
	}
	return m
}

var engines = append([]struct {
	name   string
	decode func([]byte, any) error
}{
	{"encoding-json", stdjson.Unmarshal},
	{"go-json-experiment", func(b []byte, v any) error { return jsonexp.Unmarshal(b, v) }},
	{"goccy-go-json", gojson.Unmarshal},
	{"json-iterator", jsoniter.ConfigCompatibleWithStandardLibrary.Unmarshal},
}, extraEngines...)

// envelope is what a store built on a general JSON engine would decode
// first, for any model: the document's shape, with each resource's
// attributes left raw, to be decoded into the model's type once its type
// is known.
type envelope struct {
	Data []struct {
		Type          string             `json:"type"`
		ID            string             `json:"id"`
		Attributes    stdjson.RawMessage `json:"attributes"`
		Relationships map[string]struct {
			Data stdjson.RawMessage `json:"data"`
		} `json:"relationships"`
	} `json:"data"`
	Included []struct {
		Type       string             `json:"type"`
		ID         string             `json:"id"`
		Attributes stdjson.RawMessage `json:"attributes"`
	} `json:"included"`
}

type albumAttrs struct {
	Title     string `json:"title"`
	Artist    string `json:"artist"`
	SongCount int    `json:"songCount"`
}

// twoPass decodes the envelope, then each resource's attributes and
// linkage, as a model-agnostic store on that engine must.
func twoPass(decode func([]byte, any) error, data []byte) (map[string]*plainAlbum, error) {
	var env envelope
	if err := decode(data, &env); err != nil {
		return nil, err
	}
	m := make(map[string]*plainAlbum, len(env.Data))
	for i := range env.Data {
		r := &env.Data[i]
		var a albumAttrs
		if err := decode(r.Attributes, &a); err != nil {
			return nil, err
		}
		pa := &plainAlbum{Title: a.Title, Artist: a.Artist, SongCount: a.SongCount}
		if rel, ok := r.Relationships["label"]; ok {
			var id ident
			if err := decode(rel.Data, &id); err != nil {
				return nil, err
			}
			pa.LabelID = id.ID
		}
		m[r.ID] = pa
	}
	return m, nil
}

// BenchmarkDecodeTwoPass is BenchmarkDecode for a store that does not
// know the document's Go type up front.
func BenchmarkDecodeTwoPass(b *testing.B) {
	data := albumDoc()
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				m, err := twoPass(e.decode, data)
				if err != nil || len(m) != n {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecode decodes into the document's own Go type, known up front.
func BenchmarkDecode(b *testing.B) {
	data := albumDoc()
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				var d doc
				if err := e.decode(data, &d); err != nil {
					b.Fatal(err)
				}
				if len(insert(&d)) != n {
					b.Fatal("short")
				}
			}
		})
	}
	b.Run("recstore-Push", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			s := recstore.New(nil)
			recstore.MustRegister[album](s, nil)
			recstore.MustRegister[label](s, nil)
			keys, err := s.Push(data)
			if err != nil || len(keys) != n {
				b.Fatal(err)
			}
		}
	})
}

package recstore_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/inflect"
)

// A Store reads its models' plurals whatever the English rules make of
// them, and Options.Inflector adds an application's own words, for this
// Store only. The Store's HTTPAdapter or RESTAdapter builds its paths with
// the same words: set them once, in Options.
func ExampleOptions_inflector() {
	type Cactus struct {
		ID   string `jsonapi:"primary,cactus"`
		Name string `jsonapi:"attr,name"`
	}
	type Wave struct {
		ID     string `jsonapi:"primary,wave"`
		Height int    `jsonapi:"attr,height"`
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println(r.Method, r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"cactus": {"id": 3, "name": "barrel"}}`)
	}))
	defer srv.Close()

	rules := inflect.English()
	rules.Irregular("cactus", "cacti")
	s := recstore.New(&recstore.Options{
		Inflector:  rules,
		Serializer: &recstore.RESTSerializer{},
		Adapter:    &recstore.RESTAdapter{HTTPAdapter: recstore.HTTPAdapter{Host: srv.URL}},
	})
	defer s.Close()
	cacti := recstore.MustRegister[Cactus](s, nil)
	recstore.MustRegister[Wave](s, nil)

	keys, err := s.PushPayload("", `{"cacti": [{"id": 1, "name": "saguaro"}], "waves": [{"id": 2, "height": 3}]}`)
	fmt.Println(keys, err)
	fmt.Println(s.ModelNameFromPayloadKey("waves"), recstore.ModelNameFromPayloadKey("waves"))

	c, err := cacti.Find(context.Background(), "3", nil)
	fmt.Println(c.Name, err)
	// Output:
	// [cactus:1 wave:2] <nil>
	// wave wafe
	// GET /cacti/3
	// barrel <nil>
}

// A server that takes several ids in the path, with no filter[id], gets
// /albums/1,2 from CommaIDsURL; a Store that coalesces Finds sends them so.
func ExampleCommaIDsURL() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println(r.Method, r.URL.EscapedPath())
		var data []string
		for id := range strings.SplitSeq(strings.TrimPrefix(r.URL.Path, "/api/albums/"), ",") {
			data = append(data, fmt.Sprintf(`{"type": "albums", "id": %q}`, id))
		}
		w.Header().Set("Content-Type", "application/vnd.api+json")
		io.WriteString(w, `{"data": [`+strings.Join(data, ",")+`]}`)
	}))
	defer srv.Close()

	a := &recstore.HTTPAdapter{Host: srv.URL, Namespace: "api", URLForFindMany: recstore.CommaIDsURL}
	body, err := a.FindMany(context.Background(), &recstore.Request{Type: "album", IDs: []string{"1", "2", "a/b"}})
	fmt.Println(len(body) > 0, err)
	// Output:
	// GET /api/albums/1,2,a%2Fb
	// true <nil>
}

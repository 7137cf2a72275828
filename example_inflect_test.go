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
// Store only. HTTPAdapter.Inflector gives the adapter's paths the same.
func ExampleOptions_inflector() {
	type Cactus struct {
		ID   string `jsonapi:"primary,cactus"`
		Name string `jsonapi:"attr,name"`
	}
	type Wave struct {
		ID     string `jsonapi:"primary,wave"`
		Height int    `jsonapi:"attr,height"`
	}
	rules := inflect.English()
	rules.Irregular("cactus", "cacti")
	s := recstore.New(&recstore.Options{Inflector: rules, Serializer: &recstore.RESTSerializer{}})
	defer s.Close()
	recstore.MustRegister[Cactus](s, nil)
	recstore.MustRegister[Wave](s, nil)

	keys, err := s.PushPayload("", `{"cacti": [{"id": 1, "name": "saguaro"}], "waves": [{"id": 2, "height": 3}]}`)
	fmt.Println(keys, err)
	fmt.Println(s.ModelNameFromPayloadKey("waves"), recstore.ModelNameFromPayloadKey("waves"))

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println(r.Method, r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"cactus": {"id": 3, "name": "barrel"}}`)
	}))
	defer srv.Close()
	a := &recstore.RESTAdapter{HTTPAdapter: recstore.HTTPAdapter{Host: srv.URL, Inflector: rules}}
	_, err = a.FindRecord(context.Background(), &recstore.Request{Type: "cactus", ID: "3"})
	fmt.Println(err)
	// Output:
	// [cactus:1 wave:2] <nil>
	// wave wafe
	// GET /cacti/3
	// <nil>
}

// A server that takes several ids in the path, with no filter[id], gets
// /albums/1,2 from IDsInPath; a Store that coalesces Finds sends them so.
func ExampleIDsInPath() {
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

	a := &recstore.HTTPAdapter{Host: srv.URL, Namespace: "api", URLForFindMany: recstore.IDsInPath}
	body, err := a.FindMany(context.Background(), &recstore.Request{Type: "album", IDs: []string{"1", "2", "a/b"}})
	fmt.Println(len(body) > 0, err)
	// Output:
	// GET /api/albums/1,2,a%2Fb
	// true <nil>
}

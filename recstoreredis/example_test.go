package recstoreredis_test

import (
	"context"
	"fmt"
	"time"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/recstoreredis"
	"github.com/redis/rueidis"
)

type Album struct {
	ID    string `jsonapi:"primary,albums"`
	Title string `jsonapi:"attr,title"`
}

// One replica of a service: its Store shares a cache in Redis with the
// other replicas, and hears of their writes. (Not run: it needs a Redis;
// `go run ./examples/replicas` runs three replicas against a local one.)
func ExampleReplicate() {
	ctx := context.Background()
	client, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{"127.0.0.1:6379"}})
	if err != nil {
		panic(err)
	}
	defer client.Close()
	cache, err := recstoreredis.NewCache(client, &recstore.HTTPAdapter{Host: "https://api.example.com"},
		&recstoreredis.CacheOptions{TTL: 10 * time.Minute})
	if err != nil {
		panic(err)
	}
	store := recstore.New(&recstore.Options{
		Adapter: cache,
		Expiry:  &recstore.Expiry{Soft: time.Minute, Hard: 10 * time.Minute}, // with TTL, bounds what no message reports
	})
	defer store.Close()
	albums := recstore.MustRegister[Album](store, nil)
	replica, err := recstoreredis.Replicate(store, client, &recstoreredis.Options{Cache: cache})
	if err != nil {
		panic(err)
	}
	defer replica.Close()

	a, err := albums.Find(ctx, "1", nil) // Redis first, then the backend
	fmt.Println(a.Title, err)
	a.Title = "Renamed"
	_, err = albums.Edit("1", func(x *Album) { x.Title = a.Title })
	fmt.Println(err)
	_, err = albums.Save(ctx, "1") // the other replicas' copies are stale now
	fmt.Println(err, replica.Stats().Published)
}
